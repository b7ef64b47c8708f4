package platform_test

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/contrail-events/contrail/platform/loadgen"
)

// cpuSampler reads the CPU time of a set of processes and of the whole
// machine from /proc every interval, so the CPU each used inside any time
// window (a saturation run, placed to final) can be told afterwards. Where
// /proc cannot tell (not Linux) it records nothing.
type cpuSampler struct {
	// procs names the sampled processes: a name to the pids it sums
	// ("self" is this process: the in-process broker, registry and load
	// generator; "postgres" every process named postgres).
	procs map[string][]int
	// pgBackends, when set, names the PostgreSQL backend processes by the
	// service they serve (pid -> service): "postgres" is then split into
	// "postgres:<service>" and "postgres" (the server's other processes).
	pgBackends func() map[int]string
	pgNames    map[int]string // pid -> service, every backend named so far
	mu         sync.Mutex
	times      []time.Time
	ticks      []map[string]int64 // per sample: name -> user+system ticks; "machine busy" and "machine total" too
	stop       chan struct{}
	done       chan struct{}
}

const (
	machineBusy  = "machine busy"
	machineTotal = "machine total"
)

func startCPUSampler(procs map[string][]int, every time.Duration) *cpuSampler {
	s := &cpuSampler{procs: procs, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-s.stop:
				s.sample()
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// setBackends sets pgBackends (before the samples that should use it).
func (s *cpuSampler) setBackends(fn func() map[int]string) {
	s.mu.Lock()
	s.pgBackends = fn
	s.mu.Unlock()
}

func (s *cpuSampler) Stop() {
	close(s.stop)
	<-s.done
}

func (s *cpuSampler) sample() {
	now := time.Now()
	m := map[string]int64{}
	for name, pids := range s.procs {
		for _, pid := range pids {
			m[name] += procTicks(strconv.Itoa(pid))
		}
	}
	if _, ok := s.procs["self"]; ok {
		m["self"] = procTicks("self")
	}
	if _, ok := s.procs["postgres"]; ok {
		var backends map[int]string
		s.mu.Lock()
		fn := s.pgBackends
		s.mu.Unlock()
		if fn != nil {
			backends = fn()
		}
		// Per process, so a backend that appears (or is first named)
		// between two samples counts from then on, not from its start.
		s.mu.Lock()
		if s.pgNames == nil {
			s.pgNames = map[int]string{}
		}
		for pid, svc := range backends {
			s.pgNames[pid] = svc // sticky: a failed lookup keeps the name
		}
		names := maps.Clone(s.pgNames)
		s.mu.Unlock()
		for pid, ticks := range postgresTicks() {
			name := "postgres"
			if svc, ok := names[pid]; ok {
				name = "postgres:" + svc
			}
			m[fmt.Sprintf("%s|%d", name, pid)] = ticks
		}
	}
	m[machineBusy], m[machineTotal] = machineTicks()
	s.mu.Lock()
	s.times = append(s.times, now)
	s.ticks = append(s.ticks, m)
	s.mu.Unlock()
}

// procTicks returns the user+system ticks of /proc/<pid>/stat (0 when it
// cannot be read).
func procTicks(pid string) int64 {
	b, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return 0
	}
	s := string(b)
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return 0
	}
	f := strings.Fields(s[end+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return u + st
}

// machineTicks returns the busy and total ticks of all CPUs (/proc/stat),
// summed over the CPUs: total grows by the number of CPUs per tick.
func machineTicks() (busy, total int64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0
	}
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total
}

// usage is the CPU used inside windows, per sampled name, in seconds, and
// the windows' total wall time.
type usage struct {
	cpu  map[string]float64
	wall float64
}

// within sums, over windows [from, to], each name's CPU between the last
// sample at or before from and the first at or after to.
func (s *cpuSampler) within(windows [][2]time.Time) usage {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := usage{cpu: map[string]float64{}}
	for _, w := range windows {
		i := sort.Search(len(s.times), func(i int) bool { return s.times[i].After(w[0]) }) - 1
		j := sort.Search(len(s.times), func(k int) bool { return !s.times[k].Before(w[1]) })
		if i < 0 || j >= len(s.times) || j <= i {
			continue
		}
		u.wall += s.times[j].Sub(s.times[i]).Seconds()
		for key, t := range s.ticks[j] {
			name, _, _ := strings.Cut(key, "|")             // "postgres...|pid": per process
			u.cpu[name] += float64(t-s.ticks[i][key]) / 100 // USER_HZ
		}
	}
	return u
}

// write prints each sampled part's share of the windows: its CPU time as a
// share of one core, and of the machine's CPU time, busiest first, then
// the rest of the machine (other processes) and idle.
func (u usage) write(w io.Writer, title string, services []string) {
	if u.wall <= 0 || u.cpu[machineTotal] <= 0 {
		fmt.Fprintln(w, title+": not measured (no /proc)")
		return
	}
	machine := u.cpu[machineTotal]
	cores := machine / u.wall
	type part struct {
		name string
		sec  float64
	}
	var parts []part
	var counted, svc float64
	for name, sec := range u.cpu {
		if name == machineBusy || name == machineTotal {
			continue
		}
		label := name
		switch {
		case name == "self":
			label = "broker+registry+load generator (the benchmark process)"
		case name == "postgres":
			label = "PostgreSQL server, other processes"
		case strings.HasPrefix(name, "postgres:"):
			label = "PostgreSQL server, backends of " + strings.TrimPrefix(name, "postgres:")
		}
		parts = append(parts, part{label, sec})
		counted += sec
		for _, s := range services {
			if s == name {
				svc += sec
			}
		}
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].sec > parts[j].sec })
	fmt.Fprintf(w, "%s (%.1fs of flow runs, placed->final, %.1f cores): %% of one core, %% of the machine\n", title, u.wall, cores)
	for _, p := range parts {
		fmt.Fprintf(w, "  %-56s %4.0f%%  %4.0f%%\n", p.name, 100*p.sec/u.wall, 100*p.sec/machine)
	}
	fmt.Fprintf(w, "  %-56s %4.0f%%  %4.0f%%\n", "the four services together", 100*svc/u.wall, 100*svc/machine)
	var pg float64
	for name, sec := range u.cpu {
		if name == "postgres" || strings.HasPrefix(name, "postgres:") {
			pg += sec
		}
	}
	if pg > 0 {
		fmt.Fprintf(w, "  %-56s %4.0f%%  %4.0f%%\n", "PostgreSQL server together", 100*pg/u.wall, 100*pg/machine)
	}
	other := u.cpu[machineBusy] - counted
	fmt.Fprintf(w, "  %-56s %4.0f%%  %4.0f%%\n", "other processes on the machine", 100*max(other, 0)/u.wall, 100*max(other, 0)/machine)
	idle := machine - u.cpu[machineBusy]
	fmt.Fprintf(w, "  %-56s %4.0f%%  %4.0f%%\n", "idle", 100*idle/u.wall, 100*idle/machine)
}

// writePerOrder prints each sampled part's CPU time per order over the
// windows, which held orders orders, busiest first, and the machine's
// busy time per order.
func (u usage) writePerOrder(w io.Writer, orders int) {
	if u.wall <= 0 || orders <= 0 {
		return
	}
	type part struct {
		name string
		sec  float64
	}
	var parts []part
	for name, sec := range u.cpu {
		if name != machineBusy && name != machineTotal {
			parts = append(parts, part{name, sec})
		}
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].sec > parts[j].sec })
	fmt.Fprintf(w, "CPU time per order (%d orders):", orders)
	for _, p := range parts {
		fmt.Fprintf(w, "  %s %.2f ms", p.name, 1000*p.sec/float64(orders))
	}
	fmt.Fprintf(w, "  whole machine busy %.2f ms\n", 1000*u.cpu[machineBusy]/float64(orders))
}

// writeCeiling prints the most this machine could move with the CPU time
// per order the windows measured: its cores, fully busy, divided by the
// machine's busy CPU time per order (every process, the benchmark's broker
// and load generator included), and the efficiency that rate would reach
// against raw records/s. It returns that efficiency (0 when not measured).
func (u usage) writeCeiling(w io.Writer, orders int, raw float64) float64 {
	if u.wall <= 0 || orders <= 0 || u.cpu[machineBusy] <= 0 || raw <= 0 {
		return 0
	}
	cores := u.cpu[machineTotal] / u.wall
	perOrder := u.cpu[machineBusy] / float64(orders)
	busy := u.cpu[machineBusy] / u.cpu[machineTotal]
	rate := cores / perOrder
	eff := rate * float64(loadgen.RecordsPerOrder) / raw
	fmt.Fprintf(w, "CPU ceiling   %d orders in %.1fs of runs (%.0f orders/s) with the machine %.0f%% busy: %.2f ms of machine CPU per order; %.1f cores fully busy move at most %.0f orders/s, efficiency <= %.3f against raw %.0f records/s\n",
		orders, u.wall, float64(orders)/u.wall, 100*busy, 1000*perOrder, cores, rate, eff, raw)
	return eff
}

// postgresTicks returns the user+system ticks of every process named
// postgres, by pid.
func postgresTicks() map[int]int64 {
	out := map[int]int64{}
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(b)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open || s[open+1:end] != "postgres" {
			continue
		}
		out[pid] = procTicks(d.Name())
	}
	return out
}
