package main

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/geminihook/geminihook/publish"
)

// Pub/Sub's billing rules (cloud.google.com/pubsub/pricing): a message's
// volume is its data, each attribute's key and value, 20 bytes for the
// timestamp and its message id; a publish request is billed at least 1000
// bytes.
const (
	pubsubTimestampBytes  = 20
	pubsubMessageIDBytes  = 16 // ids the service assigns are 16-17 digits
	pubsubMinRequestBytes = 1000
)

// typicalBody is a thin Gemini event as the README shows it.
var typicalBody = []byte(`{"type":"batch.succeeded","version":"v1","timestamp":"2026-01-22T12:00:00Z","data":{"id":"batches/123456789012","output_file_uri":"gs://my-bucket/batches/123456789012/results.jsonl"}}`)

// messageVolume is the billed volume of publishing body as the receiver
// does: its attributes for a v1 delivery, in a request of its own.
func messageVolume(body []byte) (actual, billed int) {
	id := "msg_2f1e0c3a-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
	attrs := publish.ParseEnvelope(body).Attributes(id, strconv.FormatInt(time.Now().Unix(), 10), "v1")
	actual = len(body) + pubsubTimestampBytes + pubsubMessageIDBytes
	for k, v := range attrs {
		actual += len(k) + len(v)
	}
	return actual, max(actual, pubsubMinRequestBytes)
}

func (r *report) writeCost(p func(string, ...any), body []byte) {
	p("## Cost model\n\n")
	p(`What one million deliveries cost in Firestore operations and Pub/Sub volume, by outcome,
from what the code does (` + "`dedupe/firestore.go`" + `, ` + "`handler.go`" + `, ` + "`publish/pubsub.go`" + `), and how many
instances a rate needs, from the CPU per delivery measured above.

| outcome (per 1,000,000 deliveries) | Firestore reads | Firestore writes | Firestore deletes | Pub/Sub publish requests |
|---|---|---|---|---|
| new (200 published): ` + "`Create`" + ` the claim, publish, mark it published (` + "`Set`" + ` merge) | 0 | 2,000,000 | 1,000,000 (TTL, after ` + "`DEDUPE_RETENTION`" + `) | 1,000,000 |
| duplicate (200 duplicate): ` + "`Create`" + ` fails with ALREADY_EXISTS, one plain read (no transaction) | 1,000,000 | up to 1,000,000 (the refused ` + "`Create`" + `) | 0 | 0 |
| in progress (409): as a duplicate | 1,000,000 | up to 1,000,000 | 0 | 0 |
| rejected (400, 401, 405, 413): answered before any backend call | 0 | 0 | 0 | 0 |
| publish failed (503): ` + "`Create`" + `, then a release transaction (read, delete) | 1,000,000 | 1,000,000 | 1,000,000 | 1,000,000 attempted, none acknowledged |
| taken over (lease expired): refused ` + "`Create`" + `, plain read, transaction (read, update), publish, mark | 2,000,000 | up to 3,000,000 | 1,000,000 (TTL) | 1,000,000 |

A rejected delivery costs no Firestore or Pub/Sub operation at all: a flood of forged
requests costs only the instances' CPU (see below), bounded by ` + "`max_instances`" + `. Whether a
` + "`Create`" + ` refused with ALREADY_EXISTS is billed as a write is not stated in Firestore's pricing;
the table counts it (an upper bound). The claim document is a few hundred bytes and lives
` + "`DEDUPE_RETENTION`" + ` (72 h) plus the TTL policy's lag (up to a day or more), so storage is
about rate × 4 days × 300 B plus index entries, e.g. 10 deliveries/s hold about 1 GB.

`)
	p("**Pub/Sub volume.** Each message is published in a request of its own (item 7), so it is billed at least 1000 bytes; each subscription is billed again for delivering it (a push request per message, at least 1000 bytes each; pulls can batch).\n\n")
	p("| body | data | billed volume of one message | publish volume per million new deliveries |\n|---|---|---|---|\n")
	for _, b := range []struct {
		name string
		body []byte
	}{{"a thin Gemini event, like the README's", typicalBody}, {fmt.Sprintf("the benchmarks' %d-byte body", len(body)), body}} {
		actual, billed := messageVolume(b.body)
		p("| %s | %d B | %d B (actual %d B: data + attributes + 20 B timestamp + message id) | %.2f GB |\n", b.name, len(b.body), billed, actual, float64(billed)*1e6/1e9)
	}
	p("\nAt $40 per TiB, a million typical deliveries cost about $%.3f to publish, plus the same per subscription.\n\n", 1e6*1000/float64(1<<40)*40)

	if r.e2e == nil {
		return
	}
	cpu := r.e2e.stats["receiver"].cpuPerDelivery()
	own := time.Duration(0)
	if r.http != nil {
		own = r.http.stats["receiver-discard"].cpuPerDelivery()
	}
	p("**Instances.** Measured CPU per new delivery, in the receiver process: %.2f ms with the real Firestore and Pub/Sub clients (on the emulators, concurrency 80, item 5)", float64(cpu)/1e6)
	if own > 0 {
		p(", of which the receiver's own work (verify, parse, claim in memory, log; item 4) is about %.0f µs", float64(own)/1e3)
	}
	p(`. Cloud Run adds instances to keep CPU near 60 %% of what an instance has, and to keep
requests in flight within its concurrency; the Terraform defaults are 1 vCPU and concurrency
80. Latency in production is not measured here: the table assumes 100 ms for a delivery (a
Firestore commit, a Pub/Sub publish and a second commit, in one region); put in your own.

| deliveries/s | CPU needed | instances for CPU (1 vCPU at 60 %%) | in flight at 100 ms | instances for concurrency 80 | instances |
|---|---|---|---|---|---|
`)
	for _, rate := range []float64{1, 10, 100, 1000, 5000} {
		cores := rate * cpu.Seconds()
		inflight := rate * 0.1
		forCPU := int(math.Max(1, math.Ceil(cores/0.6)))
		forConc := int(math.Max(1, math.Ceil(inflight/80)))
		p("| %g | %.3f vCPU | %d | %.1f | %d | %d |\n", rate, cores, forCPU, inflight, forConc, max(forCPU, forConc))
	}
	capCPU := 10 * 0.6 / cpu.Seconds()
	capConc := 10 * 80 / 0.1
	p(`
The CPU per delivery is this machine's; Cloud Run's vCPUs may be slower or faster. With the
default `+"`max_instances`"+` of 10 the receiver tops out near %.0f deliveries/s (the smaller of %.0f
by CPU and %.0f by concurrency), far above Gemini's rate of one delivery per finished job; past
it, deliveries wait or get 429/503 and Gemini retries them.

`, math.Min(capCPU, capConc), capCPU, capConc)
}
