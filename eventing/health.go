package eventing

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// ReadyCheck reports whether one dependency is ready; Router.Ready,
// Publisher.Ready and a database's PingContext fit.
type ReadyCheck func(ctx context.Context) error

// HealthHandler serves GET /healthz (200 while the process serves HTTP: a
// liveness probe) and GET /readyz (200 when every check passes within 2s,
// else 503 with the failing checks by name as JSON). Mount it at "/" or
// next to a service's own routes.
func HealthHandler(checks map[string]ReadyCheck) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		failed := map[string]string{}
		for name, check := range checks {
			if err := check(ctx); err != nil {
				failed[name] = err.Error()
			}
		}
		w.Header().Set("Content-Type", "application/json")
		if len(failed) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = json.NewEncoder(w).Encode(map[string]any{"status": "unavailable", "failed": failed})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "ready"})
	})
	return mux
}
