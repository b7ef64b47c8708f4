package contract_test

import (
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/contract"
	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/events/inventory"
	"github.com/contrail-events/contrail/events/orders"
	"github.com/contrail-events/contrail/events/payments"
	"github.com/contrail-events/contrail/events/shipping"
)

var update = flag.Bool("update", false, "rewrite the committed contracts/ files from the service handler table")

var meta = []string{"metadata.eventId", "metadata.occurredAt"}

func fields(fs ...string) contract.Opt { return contract.Fields(append(fs, meta...)...) }

// serviceHandlers lists, per reference service, the generated types its
// Register function handles and the fields its handler code reads (see
// services/<name>/service.go). It is the consumers' side of the contracts:
// change a handler to read another field, add the field here and run
// `go test ./contract -run TestServiceContracts -update`.
var serviceHandlers = []struct {
	consumer string
	t        events.Type
	opts     []contract.Opt
}{
	{"inventory", orders.OrderPlacedBinding, []contract.Opt{fields("orderId", "items.sku", "items.quantity")}},
	{"inventory", orders.OrderCancelledBinding, []contract.Opt{fields("orderId")}},
	{"inventory", orders.OrderReadyBinding, []contract.Opt{fields("orderId")}},
	{"payment", orders.OrderPlacedBinding, []contract.Opt{fields("orderId", "total.amount", "total.currency", "payment.cardToken")}},
	{"payment", orders.OrderCancelledBinding, []contract.Opt{fields("orderId")}},
	{"shipping", orders.OrderReadyBinding, []contract.Opt{fields("orderId")}},
	{"order", inventory.InventoryReservedBinding, []contract.Opt{fields("orderId", "reservationId")}},
	{"order", inventory.InventoryRejectedBinding, []contract.Opt{fields("orderId", "shortLines.sku", "shortLines.requested", "shortLines.available")}},
	{"order", inventory.InventoryReleasedBinding, []contract.Opt{fields("orderId")}},
	{"order", payments.PaymentConfirmedBinding, []contract.Opt{fields("orderId", "paymentId")}},
	{"order", payments.PaymentFailedBinding, []contract.Opt{fields("orderId", "code", "message")}},
	{"order", payments.PaymentRefundedBinding, []contract.Opt{fields("orderId")}},
	{"order", shipping.OrderShippedBinding, []contract.Opt{fields("orderId", "carrier", "trackingNumber")}},
}

// TestServiceContracts derives each reference service's contracts from the
// generated types it handles and checks that the committed files under
// contracts/ are exactly those (run with -update to rewrite them), and that
// every consumer the manifest names has one.
func TestServiceContracts(t *testing.T) {
	var derived []*contract.Contract
	for _, h := range serviceHandlers {
		c, err := contract.FromType(h.consumer, h.t, h.opts...)
		if err != nil {
			t.Fatalf("%s/%s: %v", h.consumer, h.t.FullName(), err)
		}
		derived = append(derived, c)
	}
	dir := filepath.Join("..", contract.DefaultDir)
	if *update {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if _, err := contract.Write(dir, derived); err != nil {
			t.Fatal(err)
		}
	}
	committed, err := contract.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]*contract.Contract{}
	for _, c := range committed {
		byKey[c.Key()] = c
	}
	for _, c := range derived {
		got := byKey[c.Key()]
		if got == nil {
			t.Errorf("no committed contract %s: run go test ./contract -run TestServiceContracts -update", c.Key())
			continue
		}
		want, _ := contract.Marshal(c)
		have, _ := contract.Marshal(got)
		if string(want) != string(have) {
			t.Errorf("committed contract %s differs from the one derived from %s: run go test ./contract -run TestServiceContracts -update", contract.FileName(c), c.Source)
		}
		delete(byKey, c.Key())
	}
	for k := range byKey {
		t.Errorf("committed contract %s has no handler in the service table", k)
	}

	set, _ := defaultContracts(t)
	have := map[string]bool{}
	for _, c := range derived {
		have[c.Consumer+"/"+c.Event] = true
	}
	var notInManifest []string
	inManifest := map[string]bool{}
	for _, ev := range set.Events {
		for _, consumer := range ev.Consumers {
			inManifest[consumer+"/"+ev.Type.FullName] = true
			if !have[consumer+"/"+ev.Type.FullName] {
				t.Errorf("manifest says %s consumes %s, but no handler contract exists", consumer, ev.Type.FullName)
			}
		}
	}
	for k := range have {
		if !inManifest[k] {
			notInManifest = append(notInManifest, k)
		}
	}
	if len(notInManifest) > 0 {
		// Not a failure: the manifest's consumers lists are documentation;
		// the handler contracts are what is verified.
		t.Logf("handled but not listed as consumers in manifest.yaml: %s", strings.Join(notInManifest, ", "))
	}
}

// TestServiceHandlerTable reads each reference service's source and checks
// that serviceHandlers lists exactly the generated types it passes to
// runtime.Handle, so a new handler cannot go without a contract.
func TestServiceHandlerTable(t *testing.T) {
	byName := map[string]events.Type{}
	for _, et := range eventTypes {
		// contrail.orders.OrderPlaced is orders.OrderPlacedBinding in service code.
		parts := strings.Split(et.FullName(), ".")
		byName[parts[len(parts)-2]+"."+parts[len(parts)-1]+"Binding"] = et
	}
	want := map[string]bool{}
	for _, h := range serviceHandlers {
		want[h.consumer+" "+h.t.FullName()] = true
	}
	got := map[string]bool{}
	for _, svc := range []string{"order", "inventory", "payment", "shipping"} {
		files, err := filepath.Glob(filepath.Join("..", "services", svc, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		fset := token.NewFileSet()
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, file, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) < 2 {
					return true
				}
				fun, ok := call.Fun.(*ast.SelectorExpr)
				if !ok || fun.Sel.Name != "Handle" {
					return true
				}
				if x, ok := fun.X.(*ast.Ident); !ok || x.Name != "runtime" {
					return true
				}
				arg, ok := call.Args[1].(*ast.SelectorExpr)
				if !ok {
					t.Errorf("%s: runtime.Handle with a binding that is not pkg.Binding", fset.Position(call.Pos()))
					return true
				}
				name := arg.X.(*ast.Ident).Name + "." + arg.Sel.Name
				et := byName[name]
				if et == nil {
					t.Errorf("%s: handler for unknown binding %s", fset.Position(call.Pos()), name)
					return true
				}
				got[svc+" "+et.FullName()] = true
				return true
			})
		}
	}
	if len(got) == 0 {
		t.Fatal("found no runtime.Handle calls in services/*")
	}
	for k := range got {
		if !want[k] {
			t.Errorf("services/%s handles %s but serviceHandlers has no contract for it", strings.Fields(k)[0], strings.Fields(k)[1])
		}
	}
	for k := range want {
		if !got[k] {
			t.Errorf("serviceHandlers lists %s, but services/%s has no such handler", k, strings.Fields(k)[0])
		}
	}
}
