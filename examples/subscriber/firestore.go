package subscriber

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/geminihook/geminihook/dedupe"
	"github.com/geminihook/geminihook/event"
)

// DefaultRetention is how long FirestoreHandled keeps a record by default:
// Pub/Sub's default message retention, the longest a message can be
// redelivered.
const DefaultRetention = 7 * 24 * time.Hour

// FirestoreHandled is a Handled in a Firestore collection, shared by every
// instance: one document per handled webhook id, named like the receiver's
// claims (hex SHA-256 of the id, see dedupe.DocID), with the fields
// webhook_id, event_type, handled_at and expire_at. Set a TTL policy on
// expire_at so that Firestore deletes old records:
//
//	gcloud firestore fields ttls update expire_at \
//	  --collection-group=gemini-events-handled --enable-ttl
type FirestoreHandled struct {
	coll      *firestore.CollectionRef
	retention time.Duration
	now       func() time.Time
}

type handledDoc struct {
	WebhookID string    `firestore:"webhook_id"`
	EventType string    `firestore:"event_type"`
	HandledAt time.Time `firestore:"handled_at"`
	ExpireAt  time.Time `firestore:"expire_at"`
}

// NewFirestoreHandled returns a FirestoreHandled over the named collection
// of client's database, keeping records for retention (DefaultRetention
// when not positive). It panics if collection is not a collection path,
// which is a wiring mistake.
func NewFirestoreHandled(client *firestore.Client, collection string, retention time.Duration) *FirestoreHandled {
	coll := client.Collection(collection)
	if coll == nil {
		panic(fmt.Sprintf("subscriber: %q is not a Firestore collection path", collection))
	}
	if retention <= 0 {
		retention = DefaultRetention
	}
	return &FirestoreHandled{coll: coll, retention: retention, now: time.Now}
}

// Has reports whether the record of webhookID exists. A record past its
// expire_at that the TTL policy has not deleted yet still counts: the event
// was handled.
func (f *FirestoreHandled) Has(ctx context.Context, webhookID string) (bool, error) {
	_, err := f.coll.Doc(dedupe.DocID(webhookID)).Get(ctx)
	switch status.Code(err) {
	case codes.OK:
		return true, nil
	case codes.NotFound:
		return false, nil
	}
	return false, fmt.Errorf("subscriber: firestore: look up handled id: %w", err)
}

// Add creates the record of webhookID. A record that exists already (another
// instance handled the same event meanwhile) is not an error.
func (f *FirestoreHandled) Add(ctx context.Context, webhookID string, t event.Type) error {
	now := f.now().UTC()
	_, err := f.coll.Doc(dedupe.DocID(webhookID)).Create(ctx, handledDoc{
		WebhookID: webhookID, EventType: string(t), HandledAt: now, ExpireAt: now.Add(f.retention),
	})
	if err != nil && status.Code(err) != codes.AlreadyExists {
		return fmt.Errorf("subscriber: firestore: record handled id: %w", err)
	}
	return nil
}
