package bench_test

import (
	"strings"
	"testing"

	"github.com/geminihook/geminihook/bench"
)

// BenchmarkVerify runs every side of every verification group, one after
// the other: `go test -run '^$' -bench Verify ./bench`. The published ratios
// come from the harness, which runs the sides interleaved.
func BenchmarkVerify(b *testing.B) {
	for _, g := range bench.Groups() {
		name := strings.NewReplacer(", ", "/", " ", "_").Replace(g.Name)
		for _, s := range g.Sides {
			b.Run(name+"/"+s.Name, s.F)
		}
	}
}
