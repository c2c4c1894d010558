package main

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"cloud.google.com/go/pubsub/v2"

	"github.com/geminihook/geminihook/publish"
)

// publishRun is one run of publishes through one publisher.
type publishRun struct {
	p50, p99  time.Duration
	perSecond float64
}

type publishFunc func(ctx context.Context, data []byte) error

// runPublishes publishes count messages from concurrency goroutines, each
// waiting for its ack before the next, as deliveries do.
func runPublishes(ctx context.Context, pub publishFunc, data []byte, count, concurrency int) (publishRun, error) {
	lat := make([]time.Duration, count)
	work := make(chan int)
	errs := make(chan error, concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				t := time.Now()
				if err := pub(ctx, data); err != nil {
					errs <- err
					return
				}
				lat[i] = time.Since(t)
			}
		}()
	}
	var err error
feed:
	for i := range count {
		select {
		case work <- i:
		case err = <-errs:
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err == nil && len(errs) > 0 {
		err = <-errs
	}
	if err != nil {
		return publishRun{}, err
	}
	elapsed := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return publishRun{p50: lat[count/2], p99: lat[min(count-1, count*99/100)], perSecond: float64(count) / elapsed.Seconds()}, nil
}

// publishComparison is item 7: the shipped publisher (publish.New: one
// Publish request per message) against the client library's batching
// publisher with its defaults, and with one message per bundle, on the
// emulator.
type publishComparison struct {
	concurrency        int
	ours, dflt, single []publishRun
}

func comparePublishSettings(ctx context.Context, project string, data []byte, concurrencies []int, count map[int]int, rounds int, logf func(string, ...any)) ([]publishComparison, error) {
	const topic = "bench-publish-settings"
	ours, err := publish.New(ctx, publish.Options{Project: project, Topic: topic, Timeout: 10 * time.Second, CreateTopic: true})
	if err != nil {
		return nil, err
	}
	defer ours.Stop()
	client, err := pubsub.NewClient(ctx, project)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	dp := client.Publisher(topic)
	dp.PublishSettings = pubsub.DefaultPublishSettings
	dp.PublishSettings.Timeout = 10 * time.Second
	defer dp.Stop()
	sp := client.Publisher(topic)
	sp.PublishSettings = pubsub.DefaultPublishSettings
	sp.PublishSettings.CountThreshold = 1
	sp.PublishSettings.DelayThreshold = time.Millisecond
	sp.PublishSettings.Timeout = 10 * time.Second
	defer sp.Stop()

	oursF := func(ctx context.Context, d []byte) error {
		_, err := ours.Publish(ctx, publish.Message{Data: d, Attributes: map[string]string{"webhook_id": "x"}})
		return err
	}
	dfltF := func(ctx context.Context, d []byte) error {
		_, err := dp.Publish(ctx, &pubsub.Message{Data: d, Attributes: map[string]string{"webhook_id": "x"}}).Get(ctx)
		return err
	}
	singleF := func(ctx context.Context, d []byte) error {
		_, err := sp.Publish(ctx, &pubsub.Message{Data: d, Attributes: map[string]string{"webhook_id": "x"}}).Get(ctx)
		return err
	}
	sides := []struct {
		f   func(context.Context, []byte) error
		out func(pc *publishComparison) *[]publishRun
	}{
		{oursF, func(pc *publishComparison) *[]publishRun { return &pc.ours }},
		{dfltF, func(pc *publishComparison) *[]publishRun { return &pc.dflt }},
		{singleF, func(pc *publishComparison) *[]publishRun { return &pc.single }},
	}
	var out []publishComparison
	for _, c := range concurrencies {
		pc := publishComparison{concurrency: c}
		// Warm-up of every side.
		for _, side := range sides {
			if _, err := runPublishes(ctx, side.f, data, count[c]/2, c); err != nil {
				return nil, err
			}
		}
		for r := range rounds {
			// The order rotates from round to round.
			for k := range sides {
				side := sides[(r+k)%len(sides)]
				run, err := runPublishes(ctx, side.f, data, count[c], c)
				if err != nil {
					return nil, fmt.Errorf("publish at concurrency %d: %w", c, err)
				}
				*side.out(&pc) = append(*side.out(&pc), run)
			}
		}
		p50 := func(rs []publishRun) time.Duration {
			return medianDur(rs, func(r publishRun) time.Duration { return r.p50 })
		}
		logf("publish, concurrency %d: ours p50 %v, client defaults p50 %v, client one per bundle p50 %v", c, p50(pc.ours), p50(pc.dflt), p50(pc.single))
		out = append(out, pc)
	}
	return out, nil
}

func medianDur[T any](xs []T, f func(T) time.Duration) time.Duration {
	v := make([]float64, len(xs))
	for i, x := range xs {
		v[i] = float64(f(x))
	}
	return time.Duration(median(v))
}

func medianF[T any](xs []T, f func(T) float64) float64 {
	v := make([]float64, len(xs))
	for i, x := range xs {
		v[i] = f(x)
	}
	return median(v)
}
