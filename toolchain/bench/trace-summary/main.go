// trace-summary prints where the time of one `pulumi up` or `pulumi preview` went, from the trace
// file the CLI writes with `--tracing=file:PATH` (an appdash store), for `npm run bench`.
//
//	trace-summary [-calls] TRACE [PROBE]
//
// With -calls it lists every provider call instead, in start order: when it started (seconds
// from the CLI's start), how long it took, the operation and the resource type.
// PROBE is the JSON that scripts/bench-probe.js writes from inside the Node.js program (epoch
// milliseconds at which the program's entry module started and finished loading).
// Without it, the Node.js phases are reported as one.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/pulumi/appdash"
)

// span is one timed RPC or engine step of the trace.
type span struct {
	name       string
	resource   string // the resource type for provider calls (the "pulumi-decorator" annotation)
	client     bool
	start, end time.Time
}

func (s span) seconds() float64 { return s.end.Sub(s.start).Seconds() }

// probe holds the marks the Node.js program's preload recorded, in epoch milliseconds.
type probe struct {
	EntryStart  float64 `json:"entryStart"`
	EntryLoaded float64 `json:"entryLoaded"`
	// Steps the program measured before registering anything (stacks/timing.ts); they overlap.
	Steps []struct {
		Name     string  `json:"name"`
		Start    float64 `json:"start"`
		Duration float64 `json:"duration"`
	} `json:"steps"`
}

func main() {
	args := os.Args[1:]
	calls := len(args) > 0 && args[0] == "-calls"
	if calls {
		args = args[1:]
	}
	if len(args) < 1 {
		fmt.Fprintln(os.Stderr, "usage: trace-summary [-calls] TRACE [PROBE]")
		os.Exit(2)
	}
	spans, err := readSpans(args[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "trace-summary: %s: %v\n", args[0], err)
		os.Exit(1)
	}
	if calls {
		listCalls(os.Stdout, spans)
		return
	}
	var p *probe
	if len(args) > 1 {
		if p, err = readProbe(args[1]); err != nil {
			fmt.Fprintf(os.Stderr, "trace-summary: %s: %v (Node.js phases reported as one)\n", args[1], err)
		}
	}
	report(os.Stdout, spans, p)
}

func readSpans(path string) ([]span, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	store := appdash.NewMemoryStore()
	if _, err := store.ReadFrom(f); err != nil {
		return nil, err
	}
	traces, err := store.Traces(appdash.TracesOpts{})
	if err != nil {
		return nil, err
	}
	var spans []span
	var walk func(t *appdash.Trace)
	walk = func(t *appdash.Trace) {
		s := span{}
		for _, a := range t.Annotations {
			switch a.Key {
			case "Name":
				s.name = string(a.Value)
			case "pulumi-decorator":
				s.resource = string(a.Value)
			case "span.kind":
				s.client = string(a.Value) == "client"
			}
		}
		var events []appdash.Event
		if err := appdash.UnmarshalEvents(t.Annotations, &events); err == nil {
			for _, e := range events {
				if ts, ok := e.(appdash.TimespanEvent); ok {
					s.start, s.end = ts.Start(), ts.End()
				}
			}
		}
		if !s.start.IsZero() {
			spans = append(spans, s)
		}
		for _, sub := range t.Sub {
			walk(sub)
		}
	}
	for _, t := range traces {
		walk(t)
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start.Before(spans[j].start) })
	return spans, nil
}

func readProbe(path string) (*probe, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p probe
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, err
	}
	if p.EntryStart == 0 || p.EntryLoaded == 0 {
		return nil, fmt.Errorf("no marks recorded")
	}
	return &p, nil
}

func epoch(ms float64) time.Time { return time.UnixMicro(int64(ms * 1000)) }

func report(w *os.File, spans []span, p *probe) {
	first := func(match func(span) bool) (span, bool) {
		for _, s := range spans {
			if match(s) {
				return s, true
			}
		}
		return span{}, false
	}
	root, ok := first(func(s span) bool { return s.name == "pulumi" })
	if !ok {
		fmt.Fprintln(w, "no `pulumi` root span in the trace")
		return
	}
	node, okNode := first(func(s span) bool { return s.name == "execNodejs" })
	// Provider calls, as the engine made them (client side), and the program's registrations.
	var calls []span
	var firstResource, lastEnd time.Time
	for _, s := range spans {
		if s.client && strings.HasPrefix(s.name, "/pulumirpc.ResourceProvider/") && s.resource != "" {
			calls = append(calls, s)
			if firstResource.IsZero() || s.start.Before(firstResource) {
				firstResource = s.start
			}
			if s.end.After(lastEnd) {
				lastEnd = s.end
			}
		}
	}
	row := func(label string, from, to time.Time) {
		if from.IsZero() || to.IsZero() {
			return
		}
		fmt.Fprintf(w, "  %-58s %6.2f\n", label, to.Sub(from).Seconds())
	}
	fmt.Fprintf(w, "  %-58s %6s\n", "phase (one traced run; tracing itself adds time)", "s")
	if okNode {
		row("CLI start, plugins, state: until Node.js is started", root.start, node.start)
		if p != nil {
			row("Node.js start, the SDK's runtime and ts-node", node.start, epoch(p.EntryStart))
			row("program modules loaded (ours, Pulumi and Kubernetes SDKs)", epoch(p.EntryStart), epoch(p.EntryLoaded))
			row("program evaluation (config, cluster checks), first call", epoch(p.EntryLoaded), firstResource)
			for _, step := range p.Steps {
				label := fmt.Sprintf("  %s (from +%.2f s)", step.Name, (step.Start-p.EntryLoaded)/1000)
				fmt.Fprintf(w, "  %-58s %6.2f\n", label, step.Duration/1000)
			}
		} else {
			row("Node.js, SDK and program, until the first provider call", node.start, firstResource)
		}
	}
	row("resource operations: first provider call to last one done", firstResource, lastEnd)
	row("engine tail: state written, plugins stopped", lastEnd, root.end)
	row("total", root.start, root.end)

	// Where the resource phase went, by operation and resource type (sums; calls overlap).
	type key struct{ op, resource string }
	sums := map[key]float64{}
	counts := map[key]int{}
	for _, c := range calls {
		k := key{strings.TrimPrefix(c.name, "/pulumirpc.ResourceProvider/"), c.resource}
		sums[k] += c.seconds()
		counts[k]++
	}
	keys := make([]key, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return sums[keys[i]] > sums[keys[j]] })
	// A Kubernetes Check is a few milliseconds unless the provider first reads the cluster's whole
	// OpenAPI document again, which it does after every CRD it created (pkg/provider/provider.go).
	slow, slowSum := 0, 0.0
	for _, c := range calls {
		if c.name == "/pulumirpc.ResourceProvider/Check" && strings.HasPrefix(c.resource, "kubernetes:") && c.seconds() > 0.5 {
			slow++
			slowSum += c.seconds()
		}
	}
	fmt.Fprintf(w, "  %-58s %6.2f\n", fmt.Sprintf("Checks over 0.5 s (schema re-reads after a CRD create): %d", slow), slowSum)
	fmt.Fprintf(w, "  %-58s %6s\n", "provider calls by operation and type (summed; they overlap)", "s")
	for _, k := range keys {
		if sums[k] < 0.05 {
			continue
		}
		label := fmt.Sprintf("%s %s ×%d", k.op, shortType(k.resource), counts[k])
		fmt.Fprintf(w, "    %-56s %6.2f\n", label, sums[k])
	}
}

// shortType turns "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition" into
// "CustomResourceDefinition" and "kubernetes:helm.sh/v3:Release" into "helm.sh/v3 Release".
func shortType(t string) string {
	parts := strings.Split(t, ":")
	if len(parts) < 3 {
		return t
	}
	if strings.HasPrefix(parts[1], "helm.sh") {
		return parts[1] + " " + parts[2]
	}
	return parts[2]
}

// listCalls prints every provider call the engine made (client side), Configure included.
func listCalls(w *os.File, spans []span) {
	var origin time.Time
	for _, s := range spans {
		if s.name == "pulumi" {
			origin = s.start
			break
		}
	}
	if origin.IsZero() && len(spans) > 0 {
		origin = spans[0].start
	}
	fmt.Fprintf(w, "  %7s %6s  %s\n", "start s", "took s", "call")
	for _, s := range spans {
		if !s.client || !strings.HasPrefix(s.name, "/pulumirpc.ResourceProvider/") {
			continue
		}
		op := strings.TrimPrefix(s.name, "/pulumirpc.ResourceProvider/")
		fmt.Fprintf(w, "  %7.2f %6.2f  %s %s\n", s.start.Sub(origin).Seconds(), s.seconds(), op, shortType(s.resource))
	}
}
