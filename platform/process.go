package platform

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Process is a supervised subprocess: with Restart it is started again one
// second after any exit the platform did not ask for (later after KillFor). Its output goes to
// LogFile (appended). Methods are safe for concurrent use.
type Process struct {
	Name    string
	Path    string
	Args    []string
	Env     []string // added to the platform's environment
	LogFile string
	Restart bool
	Logger  *slog.Logger

	mu       sync.Mutex
	cmd      *exec.Cmd
	hold     time.Time // KillFor: no restart before this
	stopping bool
	exits    int
	lastExit error
	started  chan struct{} // closed and replaced on every (re)start
	done     chan struct{} // closed when supervision ends
}

// Start starts the process and its supervisor; ctx ending stops it like Stop.
func (p *Process) Start(ctx context.Context) error {
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	p.done = make(chan struct{})
	p.started = make(chan struct{})
	if err := p.spawn(); err != nil {
		return err
	}
	go p.supervise(ctx)
	return nil
}

func (p *Process) spawn() error {
	var out *os.File
	if p.LogFile != "" {
		f, err := os.OpenFile(p.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("platform: log file of %s: %w", p.Name, err)
		}
		out = f
	}
	cmd := exec.Command(p.Path, p.Args...)
	p.mu.Lock()
	cmd.Env = append(os.Environ(), p.Env...) // a repeated key: the last one wins
	p.mu.Unlock()
	if out != nil {
		cmd.Stdout, cmd.Stderr = out, out
	}
	// Own process group: a Ctrl-C in the terminal reaches the platform,
	// which then stops the services in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		if out != nil {
			out.Close()
		}
		return fmt.Errorf("platform: start %s (%s): %w", p.Name, p.Path, err)
	}
	if out != nil {
		out.Close() // the child holds its own descriptor
	}
	p.mu.Lock()
	p.cmd = cmd
	close(p.started)
	p.started = make(chan struct{})
	p.mu.Unlock()
	return nil
}

func (p *Process) supervise(ctx context.Context) {
	defer close(p.done)
	for {
		p.mu.Lock()
		cmd := p.cmd
		p.mu.Unlock()
		waitErr := make(chan error, 1)
		go func() { waitErr <- cmd.Wait() }()
		var err error
		select {
		case err = <-waitErr:
		case <-ctx.Done():
			p.mu.Lock()
			p.stopping = true
			p.mu.Unlock()
			_ = cmd.Process.Signal(os.Interrupt)
			select {
			case <-waitErr:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-waitErr
			}
			return
		}
		p.mu.Lock()
		p.exits++
		p.lastExit = err
		stopping := p.stopping
		p.mu.Unlock()
		if stopping || !p.Restart {
			return
		}
		p.mu.Lock()
		wait := max(time.Second, time.Until(p.hold))
		p.mu.Unlock()
		p.Logger.Warn("service exited; restarting", "service", p.Name, "in", wait, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		p.mu.Lock()
		stopping = p.stopping
		p.mu.Unlock()
		if stopping {
			return
		}
		if err := p.spawn(); err != nil {
			p.Logger.Error("restart failed", "service", p.Name, "err", err)
			return
		}
	}
}

// Pid returns the current process id (0 if not running).
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Exits counts how often the process ended; LastExit is the last Wait error.
func (p *Process) Exits() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exits
}

// LastExit returns the error of the last exit (nil for a clean exit).
func (p *Process) LastExit() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastExit
}

// Redeploy is a rolling deploy of this one process: it adds env to the
// process's environment (a key given again overrides the earlier value),
// asks the running process to exit (SIGINT, so it drains like any
// shutdown), and the supervisor starts it again with the new environment.
// It needs Restart and returns the pid it stopped.
func (p *Process) Redeploy(env ...string) (int, error) {
	p.mu.Lock()
	if !p.Restart || p.stopping {
		p.mu.Unlock()
		return 0, fmt.Errorf("platform: redeploy %s: the process is not supervised with Restart or is stopping", p.Name)
	}
	p.Env = append(append([]string(nil), p.Env...), env...)
	cmd := p.cmd
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return 0, fmt.Errorf("platform: %s is not running", p.Name)
	}
	return cmd.Process.Pid, cmd.Process.Signal(os.Interrupt)
}

// Kill sends SIGKILL to the running process; with Restart the supervisor
// starts it again. It returns the pid it killed.
func (p *Process) Kill() (int, error) {
	p.mu.Lock()
	cmd := p.cmd
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return 0, fmt.Errorf("platform: %s is not running", p.Name)
	}
	return cmd.Process.Pid, cmd.Process.Signal(syscall.SIGKILL)
}

// KillFor sends SIGKILL like Kill and keeps the process down for at least
// d before the supervisor starts it again: a machine that stays away
// rather than a crash. It returns the pid it killed.
func (p *Process) KillFor(d time.Duration) (int, error) {
	p.mu.Lock()
	p.hold = time.Now().Add(d)
	p.mu.Unlock()
	return p.Kill()
}

// Stop asks the process to exit (SIGINT), kills it after grace, and ends
// supervision. Safe to call more than once.
func (p *Process) Stop(grace time.Duration) {
	p.mu.Lock()
	p.stopping = true
	cmd := p.cmd
	p.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		_ = cmd.Process.Signal(os.Interrupt)
	}
	if p.done == nil {
		return
	}
	select {
	case <-p.done:
	case <-time.After(grace):
		p.mu.Lock()
		if p.cmd != nil && p.cmd.Process != nil {
			_ = p.cmd.Process.Kill()
		}
		p.mu.Unlock()
		<-p.done
	}
}
