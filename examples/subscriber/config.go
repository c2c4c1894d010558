package subscriber

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"cloud.google.com/go/firestore"
)

// Defaults of the configuration.
const (
	DefaultCollection = "gemini-events-handled"
	// memoryCapacity bounds the in-memory store: enough ids for the
	// redeliveries of one instance's recent events.
	memoryCapacity = 10_000
)

func osEnv(name string) string { return os.Getenv(name) }

// FromEnv builds a Subscriber from the environment (see the package
// documentation), with the handlers of handlers.go, logging JSON to stdout.
func FromEnv(ctx context.Context, getenv func(string) string) (*Subscriber, error) {
	level := slog.LevelInfo
	if v := getenv("LOG_LEVEL"); v != "" {
		if err := level.UnmarshalText([]byte(v)); err != nil {
			return nil, fmt.Errorf("subscriber: LOG_LEVEL=%q: want debug, info, warn or error", v)
		}
	}
	log := NewLogger(os.Stdout, level)

	project := getenv("GOOGLE_CLOUD_PROJECT")
	if project == "" {
		log.Warn("GOOGLE_CLOUD_PROJECT is not set: handled webhook ids are kept in memory, per instance, " +
			"and a redelivery to another instance runs its handler again")
		return New(NewMemoryHandled(memoryCapacity, DefaultMemoryTTL), log), nil
	}
	database := getenv("FIRESTORE_DATABASE")
	if database == "" {
		database = firestore.DefaultDatabaseID
	}
	collection := getenv("SUBSCRIBER_COLLECTION")
	if collection == "" {
		collection = DefaultCollection
	}
	if strings.Count(collection, "/")%2 != 0 {
		return nil, fmt.Errorf("subscriber: SUBSCRIBER_COLLECTION=%q is not a collection path", collection)
	}
	client, err := firestore.NewClientWithDatabase(ctx, project, database)
	if err != nil {
		return nil, fmt.Errorf("subscriber: firestore: %w", err)
	}
	return New(NewFirestoreHandled(client, collection, 0), log), nil
}
