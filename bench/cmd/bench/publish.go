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

// publishComparison is item 7: the shipped publisher (publish.New) against
// the client library's defaults, on the emulator.
type publishComparison struct {
	concurrency int
	ours, dflt  []publishRun
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

	oursF := func(ctx context.Context, d []byte) error {
		_, err := ours.Publish(ctx, publish.Message{Data: d, Attributes: map[string]string{"webhook_id": "x"}})
		return err
	}
	dfltF := func(ctx context.Context, d []byte) error {
		_, err := dp.Publish(ctx, &pubsub.Message{Data: d, Attributes: map[string]string{"webhook_id": "x"}}).Get(ctx)
		return err
	}
	var out []publishComparison
	for _, c := range concurrencies {
		pc := publishComparison{concurrency: c}
		// Warm-up of both.
		if _, err := runPublishes(ctx, oursF, data, count[c]/2, c); err != nil {
			return nil, err
		}
		if _, err := runPublishes(ctx, dfltF, data, count[c]/2, c); err != nil {
			return nil, err
		}
		for r := range rounds {
			order := []bool{true, false}
			if r%2 == 1 {
				order = []bool{false, true}
			}
			for _, isOurs := range order {
				f := dfltF
				if isOurs {
					f = oursF
				}
				run, err := runPublishes(ctx, f, data, count[c], c)
				if err != nil {
					return nil, fmt.Errorf("publish at concurrency %d: %w", c, err)
				}
				if isOurs {
					pc.ours = append(pc.ours, run)
				} else {
					pc.dflt = append(pc.dflt, run)
				}
			}
		}
		logf("publish settings, concurrency %d: ours p50 %v, default p50 %v", c, medianDur(pc.ours, func(r publishRun) time.Duration { return r.p50 }), medianDur(pc.dflt, func(r publishRun) time.Duration { return r.p50 }))
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
