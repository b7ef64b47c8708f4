package wire

// Default local addresses: what `contrail up` listens on and what every
// client (services, CLI, console) dials when it is given no address.
const (
	// DefaultBrokerAddr is the Kafka bootstrap address.
	DefaultBrokerAddr = "127.0.0.1:9092"
	// DefaultRegistryAddr is the schema registry's listen address.
	DefaultRegistryAddr = "127.0.0.1:8081"
	// DefaultRegistryURL is the schema registry's base URL.
	DefaultRegistryURL = "http://" + DefaultRegistryAddr
	// DefaultJaegerQueryAddr is Jaeger's query API (and UI) address.
	DefaultJaegerQueryAddr = "127.0.0.1:16686"
	// DefaultOTLPHTTPAddr is Jaeger's OTLP/HTTP receiver address.
	DefaultOTLPHTTPAddr = "127.0.0.1:4318"
	// DefaultConsoleAddr is the web console's listen address.
	DefaultConsoleAddr = "127.0.0.1:8088"
	// DefaultOTLPGRPCAddr is Jaeger's OTLP/gRPC receiver address.
	DefaultOTLPGRPCAddr = "127.0.0.1:4317"
)
