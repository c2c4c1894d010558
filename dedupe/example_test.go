package dedupe_test

import (
	"context"
	"fmt"

	"github.com/geminihook/geminihook/dedupe"
)

// A delivery is claimed, published and marked; Gemini's retry of it is then
// a duplicate.
func Example() {
	ctx := context.Background()
	store := dedupe.NewMemory(dedupe.Options{})

	publish := func(id string) {
		c, err := store.Claim(ctx, id, "batch.succeeded")
		if err != nil {
			fmt.Println("503:", err) // outcome unknown: let Gemini retry
			return
		}
		switch c.State {
		case dedupe.Acquired:
			messageID := "msg-1" // the Pub/Sub server's ack
			if err := store.MarkPublished(ctx, id, c.Attempt, messageID); err != nil {
				fmt.Println("published; not recorded:", err)
			}
			fmt.Println("200 published", messageID)
		case dedupe.Duplicate:
			fmt.Println("200 duplicate of", c.MessageID)
		case dedupe.Busy:
			fmt.Println("409 retry after", c.LeaseUntil)
		}
	}
	publish("msg_2f3a9b7c")
	publish("msg_2f3a9b7c")
	// Output:
	// 200 published msg-1
	// 200 duplicate of msg-1
}
