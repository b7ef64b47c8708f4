package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Leader election among registry replicas, the way Confluent and Karapace
// do it: every replica joins one Kafka group with its own protocol type
// ("sr"), announcing its URL and whether it may lead; the group's leader
// member picks the registry leader and tells everyone in SyncGroup.

// DefaultLeaderGroup is the group replicas elect their leader in:
// Confluent's default schema.registry.group.id.
const DefaultLeaderGroup = "schema-registry"

// Codes of a replica that cannot reach a leader: Confluent's.
const (
	CodeForwardFailed = 50003
	CodeUnknownLeader = 50004
)

// offsetHeader carries, on a leader's answer to a write, the offset after
// the write's records, so the follower that forwarded it can wait until
// it has applied them (read-your-writes).
const offsetHeader = "X-Contrail-Offset"

// forwardedHeader marks a write a follower forwarded; a replica that is
// not the leader answers it 50004 instead of forwarding it again, so two
// replicas with different views of the leader cannot bounce it.
const forwardedHeader = "X-Contrail-Forwarded"

// StaleHeader is set on every read a stale replica answers (see
// Replica.Stale): the seconds since the brokers last answered, e.g. "12.5".
// The answer also carries `Warning: 110 contrail "Response is Stale"`.
const StaleHeader = "X-Contrail-Stale"

const protocolType = "sr"

type memberMeta struct {
	URL      string `json:"url"`
	Eligible bool   `json:"eligible"`
}

type assignment struct {
	Leader string `json:"leader"` // URL; "" when no member is eligible
	Gen    int32  `json:"generation"`
}

// Role is what a replica is: "leader", "follower", "catching-up" (elected,
// reading the topic to its end before taking writes) or "electing".
type Role string

// Roles of a replica.
const (
	RoleLeader     Role = "leader"
	RoleFollower   Role = "follower"
	RoleCatchingUp Role = "catching-up"
	RoleElecting   Role = "electing"
)

// Replica runs one registry replica over a following KafkaStore
// (KafkaFollow): it takes part in the election, and its Handler serves
// reads from the local copy and forwards writes to the leader. Safe for
// concurrent use.
type Replica struct {
	store    *KafkaStore
	self     string
	eligible bool
	group    string

	mu     sync.Mutex
	role   Role
	leader string
	// last is the last leader elected, kept through a rebalance so a
	// member joining does not move the leadership.
	last   string
	cancel context.CancelFunc
	done   chan struct{}
	// contact is when the brokers last answered the probe, and end the
	// topic's last stable offset they gave then.
	contact time.Time
	end     int64
	// rejoin wakes the heartbeat loop when the store stopped writing
	// (fenced, or a failed write), so the replica asks for a new election.
	rejoin chan struct{}
	// relead wakes it to start a new producer after a failed write.
	relead chan struct{}
	probed chan struct{} // closed when probe ended
}

// StaleAfter is how long a replica goes without an answer from the
// brokers before it calls its copy stale: it then refuses writes and
// marks every read (see Replica.Handler).
const StaleAfter = 3 * time.Second

// probe asks the brokers for the topic's end every 500ms, so the replica
// knows how old its copy may be when they stop answering.
func (r *Replica) probe(ctx context.Context) {
	defer close(r.probed)
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		end, err := r.store.endOffset(pctx)
		cancel()
		if err == nil {
			r.mu.Lock()
			r.contact, r.end = time.Now(), end
			r.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// Stale returns how long ago the brokers last answered, when that is
// StaleAfter or more, else 0: a stale replica serves reads from a copy
// that may miss writes made since, and takes no writes.
func (r *Replica) Stale() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if age := time.Since(r.contact); age >= StaleAfter {
		return age
	}
	return 0
}

// NewReplica starts the election for a replica reachable at selfURL (the
// URL the others forward writes to) over store, which must have been
// opened with KafkaFollow(true) and be the store of the registry Handler
// serves. eligible false makes the replica a follower for good. The
// replica takes no writes until it is elected and has read the topic to
// its end. Close leaves the group.
func NewReplica(store *KafkaStore, selfURL string, eligible bool) (*Replica, error) {
	if !store.cfg.follow {
		return nil, fmt.Errorf("%w: replica: open the store with KafkaFollow(true)", ErrStore)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Replica{store: store, self: selfURL, eligible: eligible, group: DefaultLeaderGroup,
		role: RoleElecting, cancel: cancel, done: make(chan struct{}), rejoin: make(chan struct{}, 1), relead: make(chan struct{}, 1)}
	store.mu.Lock()
	store.onFence = r.fenced
	store.mu.Unlock()
	r.contact = time.Now()
	r.probed = make(chan struct{})
	go r.run(ctx)
	go r.probe(ctx)
	return r, nil
}

// Role returns the replica's role and the leader's URL ("" if unknown).
func (r *Replica) Role() (Role, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.role, r.leader
}

func (r *Replica) set(role Role, leader string) {
	r.mu.Lock()
	r.role, r.leader = role, leader
	if leader != "" {
		r.last = leader
	}
	r.mu.Unlock()
	r.store.setWritable(role == RoleLeader)
}

// fenced runs, with the store's lock held, when the store stopped writing
// as leader. Fenced by another instance, the replica is a follower with
// no known leader (writes get 50004) until it has rejoined the group and
// been elected again. After a write that failed otherwise, it stays in
// the group, catching-up, and starts a new producer (heartbeat).
func (r *Replica) fenced(byOther bool) {
	r.mu.Lock()
	ch := r.relead
	if byOther {
		r.role, r.leader = RoleFollower, ""
		ch = r.rejoin
	} else if r.role == RoleLeader {
		r.role = RoleCatchingUp
	}
	r.mu.Unlock()
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Close leaves the group, so the others elect a new leader at once.
func (r *Replica) Close() error {
	r.cancel()
	<-r.done
	<-r.probed
	return nil
}

func (r *Replica) run(ctx context.Context) {
	defer close(r.done)
	member := ""
	for ctx.Err() == nil {
		gen, leader, err := r.join(ctx, &member)
		if err != nil {
			r.set(RoleElecting, "")
			if errors.Is(err, kerr.UnknownMemberID) {
				member = ""
			}
			sleep(ctx, 200*time.Millisecond)
			continue
		}
		if leader == r.self {
			r.set(RoleCatchingUp, leader)
			if err := r.store.catchUp(ctx, TransactionalID(r.group, r.store.cfg.topic)); err != nil {
				r.set(RoleElecting, "")
				continue
			}
			r.set(RoleLeader, leader)
		} else {
			r.set(RoleFollower, leader)
		}
		r.heartbeat(ctx, member, gen)
	}
	r.set(RoleElecting, "")
	if member != "" {
		req := kmsg.NewPtrLeaveGroupRequest()
		req.Group, req.MemberID = r.group, member
		mi := kmsg.NewLeaveGroupRequestMember()
		mi.MemberID = member
		req.Members = append(req.Members, mi)
		lctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _ = req.RequestWith(lctx, r.store.cl)
		cancel()
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// join runs JoinGroup and SyncGroup once and returns the generation and
// the elected leader's URL.
func (r *Replica) join(ctx context.Context, member *string) (int32, string, error) {
	meta, _ := json.Marshal(memberMeta{URL: r.self, Eligible: r.eligible})
	for {
		req := kmsg.NewPtrJoinGroupRequest()
		req.Group, req.MemberID, req.ProtocolType = r.group, *member, protocolType
		req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = 6000, 6000
		p := kmsg.NewJoinGroupRequestProtocol()
		p.Name, p.Metadata = "v0", meta
		req.Protocols = append(req.Protocols, p)
		resp, err := req.RequestWith(ctx, r.store.cl)
		if err != nil {
			return 0, "", err
		}
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			if errors.Is(err, kerr.MemberIDRequired) {
				*member = resp.MemberID
				continue
			}
			return 0, "", err
		}
		*member = resp.MemberID
		sreq := kmsg.NewPtrSyncGroupRequest()
		sreq.Group, sreq.Generation, sreq.MemberID = r.group, resp.Generation, resp.MemberID
		sreq.ProtocolType, sreq.Protocol = kmsg.StringPtr(protocolType), kmsg.StringPtr("v0")
		if resp.LeaderID == resp.MemberID {
			r.mu.Lock()
			last := r.last
			r.mu.Unlock()
			a, _ := json.Marshal(assignment{Leader: pickLeader(resp.Members, last), Gen: resp.Generation})
			for _, m := range resp.Members {
				ga := kmsg.NewSyncGroupRequestGroupAssignment()
				ga.MemberID, ga.MemberAssignment = m.MemberID, a
				sreq.GroupAssignment = append(sreq.GroupAssignment, ga)
			}
		}
		sresp, err := sreq.RequestWith(ctx, r.store.cl)
		if err != nil {
			return 0, "", err
		}
		if err := kerr.ErrorForCode(sresp.ErrorCode); err != nil {
			return 0, "", err
		}
		var a assignment
		if err := json.Unmarshal(sresp.MemberAssignment, &a); err != nil {
			return 0, "", fmt.Errorf("replica: assignment %q: %w", sresp.MemberAssignment, err)
		}
		return resp.Generation, a.Leader, nil
	}
}

// pickLeader keeps the last leader when it is still an eligible member,
// else picks the eligible member with the lowest URL.
func pickLeader(members []kmsg.JoinGroupResponseMember, last string) string {
	var urls []string
	for _, m := range members {
		var mm memberMeta
		if json.Unmarshal(m.ProtocolMetadata, &mm) == nil && mm.Eligible && mm.URL != "" {
			urls = append(urls, mm.URL)
		}
	}
	sort.Strings(urls)
	if len(urls) == 0 {
		return ""
	}
	for _, u := range urls {
		if u == last {
			return u
		}
	}
	return urls[0]
}

// heartbeat keeps the membership until the group rebalances or ctx ends.
func (r *Replica) heartbeat(ctx context.Context, member string, gen int32) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.rejoin:
			return
		case <-r.relead:
			if role, _ := r.Role(); role == RoleCatchingUp {
				if err := r.store.catchUp(ctx, TransactionalID(r.group, r.store.cfg.topic)); err != nil {
					r.set(RoleElecting, "")
					return
				}
				r.set(RoleLeader, r.self)
			}
			continue
		case <-time.After(500 * time.Millisecond):
		}
		req := kmsg.NewPtrHeartbeatRequest()
		req.Group, req.Generation, req.MemberID = r.group, gen, member
		resp, err := req.RequestWith(ctx, r.store.cl)
		if err != nil || resp.ErrorCode != 0 {
			// A rebalance (someone joined or left) or a lost membership:
			// stop writing until the next election says otherwise.
			r.set(RoleElecting, "")
			return
		}
	}
}

// Handler wraps srv, the server of the replica's registry: it answers
// /healthz itself (role, leader and lag), serves reads from the local
// copy and writes on the leader; a follower forwards a write to the
// leader and answers once it has applied the leader's records itself
// (read-your-writes). With no leader elected a write gets 50004.
func (r *Replica) Handler(srv http.Handler) http.Handler {
	return &replicaHandler{r: r, srv: srv}
}

// Collectors are the replica's metrics, for WithCollectors:
// contrail_registry_replica_role (1 for the current role) and
// contrail_registry_replica_lag_records.
func (r *Replica) Collectors() []prometheus.Collector {
	role := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "contrail_registry_replica_role",
		Help: "1 for the role this replica has now (leader, follower, catching-up, electing), 0 for the others."}, []string{"role"})
	return []prometheus.Collector{
		roleCollector{r: r, vec: role},
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "contrail_registry_replica_lag_records",
			Help: "Records of the state topic this replica has not applied yet (-1: unknown)."},
			func() float64 { return float64(r.lag()) }),
	}
}

type roleCollector struct {
	r   *Replica
	vec *prometheus.GaugeVec
}

func (c roleCollector) Describe(ch chan<- *prometheus.Desc) { c.vec.Describe(ch) }

func (c roleCollector) Collect(ch chan<- prometheus.Metric) {
	now, _ := c.r.Role()
	for _, role := range []Role{RoleLeader, RoleFollower, RoleCatchingUp, RoleElecting} {
		v := 0.0
		if role == now {
			v = 1
		}
		c.vec.WithLabelValues(string(role)).Set(v)
	}
	c.vec.Collect(ch)
}

type replicaHandler struct {
	r   *Replica
	srv http.Handler
}

func (h *replicaHandler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r := h.r
	if req.URL.Path == "/healthz" {
		r.health(w)
		return
	}
	stale := r.Stale()
	if req.Method == http.MethodGet || req.Method == http.MethodHead {
		if stale > 0 {
			w.Header().Set(StaleHeader, strconv.FormatFloat(stale.Seconds(), 'f', 1, 64))
			w.Header().Set("Warning", `110 contrail "Response is Stale"`)
		}
		h.srv.ServeHTTP(w, req)
		return
	}
	if stale > 0 {
		writeErr(w, errf(http.StatusServiceUnavailable, CodeStoreError,
			"The Kafka brokers %s have not answered for %s: this registry takes no writes until they do (reads are served from a copy that old). Check that they are up and reachable from here.",
			strings.Join(r.store.cfg.brokers, ","), stale.Round(100*time.Millisecond)))
		return
	}
	role, leader := r.Role()
	switch {
	case role == RoleLeader:
		h.srv.ServeHTTP(&offsetWriter{ResponseWriter: w, store: r.store, fences: r.store.fenceCount()}, req)
	case leader == "" || role == RoleCatchingUp || req.Header.Get(forwardedHeader) != "":
		writeErr(w, errf(http.StatusInternalServerError, CodeUnknownLeader, "No leader is elected yet; retry in a few seconds."))
	default:
		r.forward(w, req, leader)
	}
}

// offsetWriter adds offsetHeader to the leader's answer, and answers a
// write that found the store fenced (fences moved) with 50004 in place
// of the registry's 50001, as a client of a deposed leader should see.
type offsetWriter struct {
	http.ResponseWriter
	store    *KafkaStore
	fences   int64
	wrote    bool
	replaced bool
}

func (o *offsetWriter) WriteHeader(code int) {
	if o.wrote {
		return
	}
	o.wrote = true
	if code == http.StatusInternalServerError && o.store.fenceCount() != o.fences {
		o.replaced = true
		o.Header().Del("Content-Length")
		writeErr(o.ResponseWriter, errf(http.StatusInternalServerError, CodeUnknownLeader,
			"This instance no longer leads: another registry instance leads topic %s now and fenced its writes; nothing of this request was written. Retry it.", o.store.cfg.topic))
		return
	}
	o.Header().Set(offsetHeader, strconv.FormatInt(o.store.Offset(), 10))
	o.ResponseWriter.WriteHeader(code)
}

func (o *offsetWriter) Write(b []byte) (int, error) {
	if !o.wrote {
		o.WriteHeader(http.StatusOK)
	}
	if o.replaced {
		return len(b), nil
	}
	return o.ResponseWriter.Write(b)
}

func (r *Replica) forward(w http.ResponseWriter, req *http.Request, leader string) {
	u, err := url.Parse(leader)
	if err != nil {
		writeErr(w, errf(http.StatusInternalServerError, CodeForwardFailed, "Leader URL %q: %v", leader, err))
		return
	}
	p := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = pr.In.Host
			pr.Out.Header.Set(forwardedHeader, r.self)
		},
		ModifyResponse: func(resp *http.Response) error {
			if off, err := strconv.ParseInt(resp.Header.Get(offsetHeader), 10, 64); err == nil {
				ctx, cancel := context.WithTimeout(req.Context(), 10*time.Second)
				defer cancel()
				if err := r.store.waitOffset(ctx, off); err != nil {
					return err
				}
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			writeErr(w, errf(http.StatusInternalServerError, CodeForwardFailed, "Error while forwarding the request to the leader %s: %v", leader, err))
		},
	}
	p.ServeHTTP(w, req)
}

func writeErr(w http.ResponseWriter, e *Error) {
	b, _ := json.Marshal(e)
	w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	w.WriteHeader(e.Status)
	_, _ = w.Write(b)
}

// health answers {"role":..., "leader":..., "lag":N}: lag is how many
// records of the topic this replica has not applied yet. A stale replica
// adds "status":"stale" and "stale_seconds", the time since the brokers
// last answered, and its lag is as of then.
func (r *Replica) health(w http.ResponseWriter) {
	role, leader := r.Role()
	h := map[string]any{"role": role, "leader": leader, "lag": r.lag()}
	if stale := r.Stale(); stale > 0 {
		h["status"], h["stale_seconds"] = "stale", stale.Round(100*time.Millisecond).Seconds()
	}
	b, _ := json.Marshal(h)
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, string(b))
}

// lag is how many records of the topic the replica has not applied, -1
// when the end offset cannot be read.
func (r *Replica) lag() int64 {
	if r.Stale() > 0 {
		r.mu.Lock()
		end := r.end
		r.mu.Unlock()
		return max(0, end-r.store.Offset())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	end, err := r.store.endOffset(ctx)
	if err != nil {
		return -1
	}
	return max(0, end-r.store.Offset())
}

// endOffset is the topic's last stable offset: the end of what a
// read-committed reader can read now.
func (s *KafkaStore) endOffset(ctx context.Context) (int64, error) {
	ends, err := kadm.NewClient(s.cl).ListCommittedOffsets(ctx, s.cfg.topic)
	if err != nil {
		return 0, err
	}
	end, ok := ends.Lookup(s.cfg.topic, 0)
	if !ok || end.Err != nil {
		return 0, fmt.Errorf("end offset of %s: %v", s.cfg.topic, end.Err)
	}
	return end.Offset, nil
}

// catchUp fences the previous leader (lead) and waits until the store
// has applied every record below the NOOP it committed: a new leader's
// ids then continue after every id any earlier leader got committed.
//
// A store re-elected while it still holds its transactional producer
// keeps it and needs no catching up: had another instance led in
// between, its InitProducerID fenced that producer, so the first write
// fails with ErrFenced and the replica rejoins, then leads with a new
// producer after a full catch-up.
func (s *KafkaStore) catchUp(ctx context.Context, txnID string) error {
	s.mu.Lock()
	kept := s.txn != nil
	s.mu.Unlock()
	if kept {
		return nil
	}
	noop, err := s.lead(ctx, txnID)
	if err != nil {
		return err
	}
	return s.waitOffset(ctx, noop+1)
}

// waitOffset waits until every record below off is applied.
func (s *KafkaStore) waitOffset(ctx context.Context, off int64) error {
	for s.Offset() < off {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

func (s *KafkaStore) fenceCount() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fences
}

func (s *KafkaStore) setWritable(on bool) {
	s.mu.Lock()
	s.writable = on
	s.mu.Unlock()
}
