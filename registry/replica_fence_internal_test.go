package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/contrail-events/contrail/broker/brokertest"
)

// TestReplicaFencedLeaderRejoins runs one replica, A, which the group
// elects, and then has a second instance, B, take the transactional id
// over without the group knowing (as a leader elected while A was cut
// off from the coordinator would) and register a schema. A's next write
// fails with 50004, naming the newer leader, and leaves nothing readable; A rejoins
// the group, is elected again, fences B in turn, catches up, and its
// next write gets an id after B's.
func TestReplicaFencedLeaderRejoins(t *testing.T) {
	b := brokertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	storeA, regA := openFollowing(t, b.Addr())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	rep, err := NewReplica(storeA, url, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rep.Close() })
	srv, err := NewServer(regA)
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: rep.Handler(srv)}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	waitRole := func(want Role) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			if role, _ := rep.Role(); role == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica never became %s", want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitRole(RoleLeader)
	post := func(subject, name string) (int, string) {
		resp, err := http.Post(url+"/subjects/"+subject+"/versions", "application/vnd.schemaregistry.v1+json",
			strings.NewReader(fmt.Sprintf(`{"schema":"{\"type\":\"record\",\"name\":\"%s\",\"fields\":[]}"}`, name)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if st, body := post("a1", "A1"); st != 200 {
		t.Fatalf("first write: %d %s", st, body)
	}

	storeB, regB := openFollowing(t, b.Addr())
	if err := storeB.catchUp(ctx, TransactionalID(DefaultLeaderGroup, DefaultKafkaTopic)); err != nil {
		t.Fatal(err)
	}
	storeB.setWritable(true)
	idB, err := regB.Register(ctx, "b1", fenceSchema("B1"), RegisterOpts{})
	if err != nil {
		t.Fatal(err)
	}

	st, body := post("a2", "A2")
	if st != 500 || !strings.Contains(body, `"error_code":50004`) || !strings.Contains(body, "another registry instance leads") {
		t.Fatalf("deposed leader's write = %d %s, want 500, 50004, naming the newer leader", st, body)
	}
	t.Logf("deposed leader's write: %d %s", st, body)

	// A rejoins, is elected again and takes writes after catching up.
	var got struct{ ID int }
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, body = post("a3", "A3")
		if st == 200 {
			json.Unmarshal([]byte(body), &got)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("A never took writes again: %d %s", st, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got.ID <= idB {
		t.Errorf("A's id after re-election %d, want above B's %d", got.ID, idB)
	}
	if _, err := regB.Register(ctx, "b2", fenceSchema("B2"), RegisterOpts{}); err == nil {
		t.Error("B wrote after A was elected again")
	}
	if st, _ := http.Get(url + "/subjects/a2/versions/1"); st.StatusCode != 404 {
		t.Errorf("the fenced write is readable: %d", st.StatusCode)
	}
}
