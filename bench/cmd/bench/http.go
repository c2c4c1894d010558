package main

import (
	"context"
	"time"
)

// runStats is what one side's runs gave, round by round.
type runStats struct {
	perSecond, p50, p99 []float64
	cpu                 time.Duration
	deliveries          int
}

func (r *runStats) cpuPerDelivery() time.Duration {
	if r.deliveries == 0 {
		return 0
	}
	return r.cpu / time.Duration(r.deliveries)
}

// alternation is the outcome of runs alternated between servers.
type alternation struct {
	stats map[string]*runStats
	// thr[name] and p50[name] are, per round, the side's throughput and p50
	// over the baseline's in the same round.
	thr, p50 map[string][]float64
}

// alternate warms every server up with warmup deliveries, then runs
// rounds; in each round every server gets count deliveries at concurrency
// from the same generator, one server at a time, in an order that rotates
// from round to round. Ratios are against base, within each round.
func alternate(ctx context.Context, gen generator, servers []*server, base string, warmup, count, concurrency, rounds int, logf func(string, ...any)) (*alternation, error) {
	a := &alternation{stats: map[string]*runStats{}, thr: map[string][]float64{}, p50: map[string][]float64{}}
	for _, s := range servers {
		a.stats[s.name] = &runStats{}
		if warmup > 0 {
			if _, err := gen.send(ctx, s.url, warmup, concurrency); err != nil {
				return nil, err
			}
		}
	}
	for r := range rounds {
		got := map[string]sendResult{}
		for i := range servers {
			s := servers[(i+r)%len(servers)]
			before := s.cpu()
			res, err := gen.send(ctx, s.url, count, concurrency)
			if err != nil {
				return nil, err
			}
			st := a.stats[s.name]
			st.cpu += s.cpu() - before
			st.deliveries += res.Deliveries
			st.perSecond = append(st.perSecond, res.PerSecond)
			st.p50 = append(st.p50, res.P50Ms)
			st.p99 = append(st.p99, res.P99Ms)
			got[s.name] = res
			logf("  round %d %-22s %7.0f/s p50 %6.2f ms p99 %6.2f ms", r+1, s.name, res.PerSecond, res.P50Ms, res.P99Ms)
		}
		b := got[base]
		for name, res := range got {
			if name != base {
				a.thr[name] = append(a.thr[name], res.PerSecond/b.PerSecond)
				a.p50[name] = append(a.p50[name], res.P50Ms/b.P50Ms)
			}
		}
	}
	return a, nil
}
