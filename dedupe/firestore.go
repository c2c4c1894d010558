package dedupe

import (
	"context"
	"fmt"
	"strings"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Firestore is a claim store in a Firestore collection, one document per
// webhook id, named [DocID]. Build one per instance and share it: it is safe
// for concurrent use, and claims are atomic across instances.
//
// Every error it returns wraps [ErrUnavailable]. Only gRPC AlreadyExists is
// read as "the claim exists"; Aborted (after the client's retries),
// Unavailable, deadlines and cancellation are failures, never outcomes.
type Firestore struct {
	client *firestore.Client
	coll   *firestore.CollectionRef
	opts   Options
}

// claimDoc is a claim document. A pending claim has no message_id or
// published_at; a claim marked published without having been claimed has
// only webhook_id, state, message_id, published_at and expire_at.
type claimDoc struct {
	WebhookID   string    `firestore:"webhook_id"`
	State       string    `firestore:"state"`
	LeaseUntil  time.Time `firestore:"lease_until,omitempty"`
	ExpireAt    time.Time `firestore:"expire_at"`
	EventType   string    `firestore:"event_type"`
	ReceivedAt  time.Time `firestore:"received_at,omitempty"`
	MessageID   string    `firestore:"message_id,omitempty"`
	PublishedAt time.Time `firestore:"published_at,omitempty"`
	Attempts    int64     `firestore:"attempts,omitempty"`
}

// NewFirestore returns a store over the named collection of client's
// database; zero fields of opts take their defaults. It panics if client is
// nil or collection is not a collection path ("claims", or
// "parent/doc/claims"), which is a wiring mistake
// that start-up configuration should have refused.
func NewFirestore(client *firestore.Client, collection string, opts Options) *Firestore {
	if client == nil {
		panic("dedupe: NewFirestore with a nil client")
	}
	coll := client.Collection(collection)
	if coll == nil {
		panic(fmt.Sprintf("dedupe: NewFirestore: %q is not a collection path", collection))
	}
	return &Firestore{client: client, coll: coll, opts: opts.withDefaults()}
}

// Claim claims webhookID for the caller; see [State] for the outcomes.
// eventType is recorded for operators and does not take part in identity.
// A new id costs one write; an existing one costs a transaction.
func (s *Firestore) Claim(ctx context.Context, webhookID, eventType string) (Claim, error) {
	ref := s.coll.Doc(DocID(webhookID))
	doc := s.pending(webhookID, eventType, s.opts.now())
	_, err := ref.Create(ctx, doc)
	if err == nil {
		return Claim{State: Acquired, Attempt: 1, LeaseUntil: doc.LeaseUntil}, nil
	}
	switch status.Code(err) {
	case codes.AlreadyExists:
	case codes.Aborted:
		// The document is locked by another attempt's transaction, perhaps
		// one whose instance died. A read shows whether that attempt
		// published or still holds a live lease; only then is there an
		// answer other than 503.
		if claim, ok, rerr := s.answerFromRead(ctx, ref); rerr == nil && ok {
			return claim, nil
		}
		return Claim{}, unavailable("create claim", err)
	default:
		return Claim{}, unavailable("create claim", err)
	}

	// A retry of a published or busy id is answered from a plain read: it
	// takes no lock, so it costs no transaction and does not wait behind one
	// left open by an instance that died. Only a takeover needs the
	// transaction.
	if claim, ok, err := s.answerFromRead(ctx, ref); err != nil {
		return Claim{}, err
	} else if ok {
		return claim, nil
	}

	var claim Claim
	err = s.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		// The transaction may run again after contention: read the clock
		// and decide afresh each time.
		now := s.opts.now()
		doc := s.pending(webhookID, eventType, now)
		snap, err := tx.Get(ref)
		if status.Code(err) == codes.NotFound {
			// Released since our Create failed.
			claim = Claim{State: Acquired, Attempt: 1, LeaseUntil: doc.LeaseUntil}
			return tx.Create(ref, doc)
		}
		if err != nil {
			return err
		}
		var cur claimDoc
		if err := snap.DataTo(&cur); err != nil {
			return err
		}
		switch {
		case !cur.ExpireAt.IsZero() && !cur.ExpireAt.After(now):
			// Expired and not yet deleted by the TTL policy, which can lag
			// by a day: the id is unknown again, as in Memory.
			claim = Claim{State: Acquired, Attempt: 1, LeaseUntil: doc.LeaseUntil}
			return tx.Set(ref, doc)
		case cur.State == statePublished:
			claim = Claim{State: Duplicate, MessageID: cur.MessageID}
			return nil
		case cur.State != statePending:
			return fmt.Errorf("document %s has unknown state %q", ref.ID, cur.State)
		case cur.LeaseUntil.After(now):
			claim = Claim{State: Busy, LeaseUntil: cur.LeaseUntil.UTC()}
			return nil
		default:
			leaseUntil := now.Add(s.opts.Lease)
			claim = Claim{State: Acquired, Attempt: int(cur.Attempts) + 1, LeaseUntil: leaseUntil}
			return tx.Update(ref, []firestore.Update{
				{Path: "lease_until", Value: leaseUntil},
				{Path: "attempts", Value: cur.Attempts + 1},
			})
		}
	})
	if err != nil {
		return Claim{}, unavailable("claim transaction", err)
	}
	return claim, nil
}

// answerFromRead reads the claim document without a transaction and
// answers when it settles the claim: published (Duplicate) or pending with a
// live lease (Busy). ok is false when only a transaction can decide: no
// document, an expired one, or a lease that ran out.
func (s *Firestore) answerFromRead(ctx context.Context, ref *firestore.DocumentRef) (claim Claim, ok bool, err error) {
	snap, err := ref.Get(ctx)
	if status.Code(err) == codes.NotFound {
		return Claim{}, false, nil
	}
	if err != nil {
		return Claim{}, false, unavailable("read claim", err)
	}
	var cur claimDoc
	if err := snap.DataTo(&cur); err != nil {
		return Claim{}, false, unavailable("read claim", err)
	}
	now := s.opts.now()
	if !cur.ExpireAt.IsZero() && !cur.ExpireAt.After(now) {
		return Claim{}, false, nil
	}
	switch {
	case cur.State == statePublished:
		return Claim{State: Duplicate, MessageID: cur.MessageID}, true, nil
	case cur.State == statePending && cur.LeaseUntil.After(now):
		return Claim{State: Busy, LeaseUntil: cur.LeaseUntil.UTC()}, true, nil
	}
	return Claim{}, false, nil
}

// MarkPublished records that webhookID was published as messageID, whoever
// holds the claim now and even if the document is gone: a publish that
// succeeded is a fact, and recording it is what keeps later attempts from
// publishing again. A missing document is recreated as a complete published
// record. attempt is accepted for symmetry with Release. Retention restarts
// from now.
func (s *Firestore) MarkPublished(ctx context.Context, webhookID string, attempt int, messageID string) error {
	now := s.opts.now()
	_, err := s.coll.Doc(DocID(webhookID)).Set(ctx, map[string]any{
		"webhook_id":   validUTF8(webhookID),
		"state":        statePublished,
		"message_id":   validUTF8(messageID),
		"published_at": now,
		TTLField:       now.Add(s.opts.Retention),
	}, firestore.MergeAll)
	if err != nil {
		return unavailable("mark published", err)
	}
	return nil
}

// Release gives up the claim after a failed publish, so that the next
// attempt acquires it at once. In one transaction it deletes the claim only
// while it is pending and still owned by attempt: a holder whose lease was
// taken over cannot free the new holder's claim, and a published claim is
// never freed. A missing claim is not an error.
func (s *Firestore) Release(ctx context.Context, webhookID string, attempt int) error {
	ref := s.coll.Doc(DocID(webhookID))
	err := s.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snap, err := tx.Get(ref)
		if status.Code(err) == codes.NotFound {
			return nil
		}
		if err != nil {
			return err
		}
		var cur claimDoc
		if err := snap.DataTo(&cur); err != nil {
			return err
		}
		if cur.State != statePending || cur.Attempts != int64(attempt) {
			return nil
		}
		return tx.Delete(ref)
	})
	if err != nil {
		return unavailable("release", err)
	}
	return nil
}

func (s *Firestore) pending(webhookID, eventType string, now time.Time) claimDoc {
	return claimDoc{
		WebhookID:  validUTF8(webhookID),
		State:      statePending,
		LeaseUntil: now.Add(s.opts.Lease),
		ExpireAt:   now.Add(s.opts.Retention),
		EventType:  validUTF8(eventType),
		ReceivedAt: now,
		Attempts:   1,
	}
}

// validUTF8 makes s storable: Firestore strings must be UTF-8, and ids come
// from request headers. The document id, a hash of the raw bytes, stays the
// identity; the stored field is for people reading it.
func validUTF8(s string) string {
	return strings.ToValidUTF8(s, "\uFFFD")
}
