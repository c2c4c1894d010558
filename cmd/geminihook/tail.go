package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/geminihook/geminihook/event"
	"github.com/geminihook/geminihook/publish"
)

type tailOptions struct {
	project      string
	topic        string
	subscription string
	filter       string
	limit        int
	raw          bool
}

func newTailCmd() *cobra.Command {
	o := &tailOptions{}
	cmd := &cobra.Command{
		Use:   "tail",
		Short: "Print the events arriving on a subscription, decoded, and acknowledge them",
		Long: `Pull events from a Pub/Sub subscription and print each one decoded (type,
webhook id, resource, user metadata, signature scheme), acknowledging it.

With --topic a temporary subscription is created on the topic (optionally
with --filter) and deleted on exit; it only sees events published after it
exists. With --subscription an existing one is read: its events are
acknowledged, so do not point tail at a subscription a consumer relies on.
Works against Google Cloud and, with PUBSUB_EMULATOR_HOST set, the emulator.`,
		Example: `  geminihook tail --topic gemini-webhooks
  geminihook tail --topic gemini-webhooks --filter 'attributes.event_type = "batch.succeeded"'
  geminihook tail --subscription gemini-webhooks-all --limit 10`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.project, "project", os.Getenv("GOOGLE_CLOUD_PROJECT"), "project of the topic or subscription (default $GOOGLE_CLOUD_PROJECT)")
	f.StringVar(&o.topic, "topic", "", "create a temporary subscription on this topic")
	f.StringVar(&o.subscription, "subscription", "", "read this existing subscription")
	f.StringVar(&o.filter, "filter", "", "with --topic: a Pub/Sub filter on attributes")
	f.IntVar(&o.limit, "limit", 0, "stop after this many events (0: until interrupted)")
	f.BoolVar(&o.raw, "raw", false, "also print the body as received")
	return cmd
}

func (o *tailOptions) run(ctx context.Context, stdout, stderr io.Writer) error {
	switch {
	case o.project == "":
		return usageError{errors.New("--project (or GOOGLE_CLOUD_PROJECT) is required")}
	case (o.topic == "") == (o.subscription == ""):
		return usageError{errors.New("give exactly one of --topic and --subscription")}
	case o.filter != "" && o.topic == "":
		return usageError{errors.New("--filter needs --topic (an existing subscription has its own filter)")}
	case o.limit < 0:
		return usageError{fmt.Errorf("--limit %d: must not be negative", o.limit)}
	}
	client, err := pubsub.NewClient(ctx, o.project)
	if err != nil {
		return err
	}
	defer client.Close()
	sub := o.subscription
	if !strings.HasPrefix(sub, "projects/") && sub != "" {
		sub = "projects/" + o.project + "/subscriptions/" + sub
	}
	if o.topic != "" {
		topic := o.topic
		if !strings.HasPrefix(topic, "projects/") {
			topic = publish.TopicName(o.project, topic)
		}
		sub = "projects/" + o.project + "/subscriptions/geminihook-tail-" + newRunID()
		_, err := client.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
			Name:   sub,
			Topic:  topic,
			Filter: o.filter,
			// Should tail be killed before it deletes it, Pub/Sub does.
			ExpirationPolicy: &pubsubpb.ExpirationPolicy{Ttl: durationpb.New(24 * time.Hour)},
		})
		if err != nil {
			return fmt.Errorf("creating a subscription on %s: %w", topic, err)
		}
		defer func() {
			dctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := client.SubscriptionAdminClient.DeleteSubscription(dctx, &pubsubpb.DeleteSubscriptionRequest{Subscription: sub}); err != nil {
				fmt.Fprintf(stderr, "deleting %s: %v\n", sub, err)
			}
		}()
	}
	fmt.Fprintf(stderr, "tailing %s\n", sub)

	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	n := 0
	err = client.Subscriber(sub).Receive(rctx, func(_ context.Context, m *pubsub.Message) {
		mu.Lock()
		defer mu.Unlock()
		if o.limit > 0 && n >= o.limit {
			m.Nack()
			return
		}
		ev, perr := event.FromPubSub(m.Data, m.Attributes)
		fmt.Fprint(stdout, describe(m, ev, perr, o.raw))
		m.Ack()
		n++
		if o.limit > 0 && n >= o.limit {
			cancel()
		}
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// describe renders one event for a terminal.
func describe(m *pubsub.Message, ev *event.Event, err error, raw bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s  webhook_id=%s", m.PublishTime.UTC().Format(time.RFC3339), ev.Type, ev.WebhookID)
	if ev.OriginalType != "" {
		fmt.Fprintf(&b, " (sent as %s)", ev.OriginalType)
	}
	if ev.ResourceID != "" {
		fmt.Fprintf(&b, " resource=%s", ev.ResourceID)
	}
	if ev.SignatureScheme != "" {
		fmt.Fprintf(&b, " scheme=%s", ev.SignatureScheme)
	}
	keys := make([]string, 0, len(ev.Metadata))
	for k := range ev.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " meta.%s=%s", k, ev.Metadata[k])
	}
	if batch, ok := ev.Batch(); ok && batch.OutputFileURI != "" {
		fmt.Fprintf(&b, " output=%s", batch.OutputFileURI)
	}
	if v, ok := ev.Video(); ok && v.OutputFileURI != "" {
		fmt.Fprintf(&b, " output=%s", v.OutputFileURI)
	}
	if err != nil {
		fmt.Fprintf(&b, " (body not fully readable: %v)", err)
	}
	b.WriteByte('\n')
	if raw {
		fmt.Fprintf(&b, "  %s\n", m.Data)
	}
	return b.String()
}
