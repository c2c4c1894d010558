package main

import (
	"flag"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/geminihook/geminihook/bench"
)

// sideResult is one side of a group over every round.
type sideResult struct {
	name, what string
	ns         []float64 // per round
	allocs     int64
	bytes      int64
}

func (s *sideResult) median() float64 { return median(s.ns) }

type groupResult struct {
	bench.Group
	sides map[string]*sideResult
	// ratios[other] is, per round, ours/other time.
	ratios map[string][]float64
}

// runMicro measures every side of every group in rounds; within a round
// the sides run one after the other, in an order that rotates from round
// to round, so that drift in the machine's speed falls on every side alike.
// A ratio is taken within each round and the median of the rounds reported.
func runMicro(rounds int, benchtime time.Duration, logf func(string, ...any)) []*groupResult {
	testing.Init()
	flag.Set("test.benchtime", benchtime.String())
	var out []*groupResult
	for _, g := range bench.Groups() {
		gr := &groupResult{Group: g, sides: map[string]*sideResult{}, ratios: map[string][]float64{}}
		for _, s := range g.Sides {
			gr.sides[s.Name] = &sideResult{name: s.Name, what: s.What}
			testing.Benchmark(s.F) // warm-up: keys fetched, pools filled, code paged in
		}
		for r := range rounds {
			ns := map[string]float64{}
			for i := range g.Sides {
				s := g.Sides[(i+r)%len(g.Sides)]
				res := testing.Benchmark(s.F)
				sr := gr.sides[s.Name]
				ns[s.Name] = float64(res.NsPerOp())
				sr.ns = append(sr.ns, ns[s.Name])
				sr.allocs, sr.bytes = res.AllocsPerOp(), res.AllocedBytesPerOp()
			}
			for name := range ns {
				if name != bench.Ours {
					gr.ratios[name] = append(gr.ratios[name], ns[bench.Ours]/ns[name])
				}
			}
		}
		logf("micro %s: ours %.0f ns/op", g.Name, gr.sides[bench.Ours].median())
		out = append(out, gr)
	}
	return out
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func fmtNs(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e4:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	case ns >= 1e3:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}
