// Command bare-firestore-pubsub is the floor of the end-to-end benchmarks
// and the minimal program of the cold-start comparison: it builds the same
// two clients as the receiver, and per request makes the same Firestore
// writes (Create of the claim document, then the merge Set that marks it
// published: same document name, same fields) and the same Pub/Sub publish
// (one Publish request per message, waiting for the ack), with no verification and no
// parsing: values come from the webhook-id header and the clock, the data
// is the raw body, the only attribute webhook_id.
//
//	GOOGLE_CLOUD_PROJECT=demo FIRESTORE_EMULATOR_HOST=... PUBSUB_EMULATOR_HOST=... PORT=18083 bare-firestore-pubsub
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func main() {
	ctx := context.Background()
	project := os.Getenv("GOOGLE_CLOUD_PROJECT")
	topic := env("PUBSUB_TOPIC", "gemini-webhooks")
	fs, err := firestore.NewClientWithDatabase(ctx, project, env("FIRESTORE_DATABASE", "(default)"))
	if err != nil {
		log.Fatal(err)
	}
	coll := fs.Collection(env("DEDUPE_COLLECTION", "bare-deliveries"))
	ps, err := pubsub.NewClient(ctx, project)
	if err != nil {
		log.Fatal(err)
	}
	if os.Getenv("PUBSUB_EMULATOR_HOST") != "" {
		// As the receiver does, on the emulator only.
		name := "projects/" + project + "/topics/" + topic
		if _, err := ps.TopicAdminClient.GetTopic(ctx, &pubsubpb.GetTopicRequest{Topic: name}); status.Code(err) == codes.NotFound {
			if _, err := ps.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: name}); err != nil && status.Code(err) != codes.AlreadyExists {
				log.Fatal(err)
			}
		} else if err != nil {
			log.Fatal(err)
		}
	}
	// The receiver's publish (publish/pubsub.go): one Publish request per
	// message, on the request's context.
	topicName := "projects/" + project + "/topics/" + topic

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		id := r.Header.Get("Webhook-Id")
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		// The receiver's document: named by the SHA-256 of the id, with the
		// fields of its claim (dedupe/firestore.go), so that Firestore does
		// the same work; the values need no parsing.
		sum := sha256.Sum256([]byte(id))
		doc := coll.Doc(hex.EncodeToString(sum[:]))
		now := time.Now()
		if _, err := doc.Create(ctx, map[string]any{
			"webhook_id": id, "state": "pending", "lease_until": now.Add(30 * time.Second),
			"expire_at": now.Add(72 * time.Hour), "event_type": "unknown", "received_at": now, "attempts": 1,
		}); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		res, err := ps.TopicAdminClient.Publish(ctx, &pubsubpb.PublishRequest{
			Topic:    topicName,
			Messages: []*pubsubpb.PubsubMessage{{Data: body, Attributes: map[string]string{"webhook_id": id}}},
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		msgID := res.MessageIds[0]
		// The receiver's update: a merge Set of the published fields.
		now = time.Now()
		if _, err := doc.Set(ctx, map[string]any{
			"webhook_id": id, "state": "published", "message_id": msgID,
			"published_at": now, "expire_at": now.Add(72 * time.Hour),
		}, firestore.MergeAll); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"status":"published","message_id":%q}`+"\n", msgID)
	})
	ln, err := net.Listen("tcp", net.JoinHostPort("", env("PORT", "8080")))
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.Serve(ln, handler))
}
