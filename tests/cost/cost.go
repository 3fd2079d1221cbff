// Package cost is the monthly AWS bill of Yinling, computed from the AWS calls, capacity units,
// queue requests and invocations the benchmarks measure per operation and from AWS's published
// prices. It prices a 2,000-senior store alone in its own deployment and as one of a 50-store
// chain sharing one, beside the floor and the naive design of DESIGN.md §8.
//
// Prices are us-east-1 list prices without the free tier (a chain's account would spend it on
// its first stores; the free tier is per account, not per store). The Hong Kong region
// (ap-east-1) lists Lambda, SQS and DynamoDB on-demand roughly 10–20% higher, and the China
// regions (cn-north-1, cn-northwest-1, Sinnet/NWCD) price in CNY on their own price lists: scale
// the result, the shape does not change. Provider charges (SMS, voice minutes) are not AWS
// infrastructure and are left out.
package cost

import (
	"fmt"
	"io"
	"strings"
)

// PricesDate is when Prices were last checked against aws.amazon.com/<service>/pricing.
const PricesDate = "2026-11-23"

// Prices are in US dollars.
type Prices struct {
	LambdaGBSecond   float64 // arm64, per GB-second
	LambdaRequest    float64 // per request
	HTTPAPIRequest   float64 // API Gateway HTTP API, per request (first 300 million)
	DynamoWRU        float64 // on-demand write request unit
	DynamoRRU        float64 // on-demand read request unit
	DynamoGBMonth    float64 // table storage, standard class
	DynamoPITRGB     float64 // point-in-time recovery (continuous backups), per GB-month
	SQSRequest       float64 // standard queue, per request (each 64 KB of a payload is one)
	S3PutRequest     float64 // PUT, COPY, POST, LIST
	S3GetRequest     float64 // GET and others
	S3GBMonth        float64 // S3 Standard
	LogsIngestGB     float64 // CloudWatch Logs standard ingestion (Lambda's first tier)
	LogsStoreGBMonth float64
	XRayTrace        float64 // per trace recorded (Tracing: Active)
	KMSKeyMonth      float64 // a customer managed key (PiiKey), per month
	KMSRequest       float64 // GenerateDataKey, Decrypt
}

// USEast1 are the list prices of us-east-1 on PricesDate. DynamoDB on-demand is after the
// 1 November 2024 cut (writes $1.25 → $0.625, reads $0.25 → $0.125 per million).
var USEast1 = Prices{
	LambdaGBSecond:   0.0000133334,
	LambdaRequest:    0.20 / 1e6,
	HTTPAPIRequest:   1.00 / 1e6,
	DynamoWRU:        0.625 / 1e6,
	DynamoRRU:        0.125 / 1e6,
	DynamoGBMonth:    0.25,
	DynamoPITRGB:     0.20,
	SQSRequest:       0.40 / 1e6,
	S3PutRequest:     0.005 / 1e3,
	S3GetRequest:     0.0004 / 1e3,
	S3GBMonth:        0.023,
	LogsIngestGB:     0.50,
	LogsStoreGBMonth: 0.03,
	XRayTrace:        5.00 / 1e6,
	KMSKeyMonth:      1.00,
	KMSRequest:       0.03 / 1e4,
}

// Usage is what one operation (or one month of a fixed activity) consumes.
type Usage struct {
	Invocations float64 // Lambda invocations
	BilledMS    float64 // billed duration per invocation
	MemoryMB    float64
	HTTPAPI     float64 // API Gateway requests
	RRU, WRU    float64 // DynamoDB request units
	SQS         float64 // SQS requests, ours and the event source mappings' polling
	S3Put       float64
	S3Get       float64
	LogBytes    float64 // CloudWatch Logs ingested
	Traces      float64 // X-Ray traces recorded
	KMSKeys     float64 // customer managed keys held (a month of Fixed)
	KMS         float64 // KMS requests
}

// Times is u, n times over.
func (u Usage) Times(n float64) Usage {
	return Usage{Invocations: u.Invocations * n, BilledMS: u.BilledMS, MemoryMB: u.MemoryMB, HTTPAPI: u.HTTPAPI * n,
		RRU: u.RRU * n, WRU: u.WRU * n, SQS: u.SQS * n, S3Put: u.S3Put * n, S3Get: u.S3Get * n,
		LogBytes: u.LogBytes * n, Traces: u.Traces * n, KMSKeys: u.KMSKeys * n, KMS: u.KMS * n}
}

// Bill is a cost broken down by service, in dollars.
type Bill struct {
	Lambda, APIGateway, DynamoDB, SQS, S3, Logs, XRay, KMS, Storage float64
}

// Total is the sum of the bill.
func (b Bill) Total() float64 {
	return b.Lambda + b.APIGateway + b.DynamoDB + b.SQS + b.S3 + b.Logs + b.XRay + b.KMS + b.Storage
}

// Plus adds two bills.
func (b Bill) Plus(o Bill) Bill {
	return Bill{b.Lambda + o.Lambda, b.APIGateway + o.APIGateway, b.DynamoDB + o.DynamoDB, b.SQS + o.SQS,
		b.S3 + o.S3, b.Logs + o.Logs, b.XRay + o.XRay, b.KMS + o.KMS, b.Storage + o.Storage}
}

// Scale is b times f.
func (b Bill) Scale(f float64) Bill {
	return Bill{b.Lambda * f, b.APIGateway * f, b.DynamoDB * f, b.SQS * f, b.S3 * f, b.Logs * f, b.XRay * f, b.KMS * f, b.Storage * f}
}

// Price is what u costs at p.
func (p Prices) Price(u Usage) Bill {
	gbSeconds := u.Invocations * u.BilledMS / 1000 * u.MemoryMB / 1024
	return Bill{
		Lambda:     gbSeconds*p.LambdaGBSecond + u.Invocations*p.LambdaRequest,
		APIGateway: u.HTTPAPI * p.HTTPAPIRequest,
		DynamoDB:   u.RRU*p.DynamoRRU + u.WRU*p.DynamoWRU,
		SQS:        u.SQS * p.SQSRequest,
		S3:         u.S3Put*p.S3PutRequest + u.S3Get*p.S3GetRequest,
		Logs:       u.LogBytes / 1e9 * p.LogsIngestGB,
		XRay:       u.Traces * p.XRayTrace,
		KMS:        u.KMSKeys*p.KMSKeyMonth + u.KMS*p.KMSRequest,
	}
}

// Store is a store's month of activity.
type Store struct {
	Seniors        int
	Reminders      int // delivered in the month
	APIRequests    int
	Campaigns      int // each to every senior of the store
	StorageGB      float64
	VoiceStorageGB float64 // recorded clips and spoken reminders in S3
}

// Issue8Store is the store DESIGN.md §8 and issue #8 price: 2,000 seniors, 30 reminders each,
// 46,000 API requests, 8 campaigns to the whole store.
var Issue8Store = Store{Seniors: 2000, Reminders: 60000, APIRequests: 46000, Campaigns: 8,
	StorageGB: 0.05, VoiceStorageGB: 0.2}

// Model is the usage of each operation: what the benchmarks measured, and the assumptions
// where nothing can be measured locally (billed durations in AWS, log volume, polling).
type Model struct {
	// Per API request, averaged over the route mix (see BENCHMARKS.md, AWS calls per request).
	APIRequest Usage
	// Per reminder delivered: the dispatcher's, sender's and escalator's share.
	Reminder Usage
	// Per recipient of a campaign (the 10,000-member benchmark, divided).
	Recipient Usage
	// Per deployment and month, whatever the number of stores: the dispatcher's tick every
	// minute, and the event source mappings' long polls of the three work queues.
	Fixed Usage
	// With tracing: whether every invocation records an X-Ray trace (template: TracingMode=Active).
	Tracing bool
}

// Monthly is what a deployment of stores stores like s costs per month, per store.
func (m Model) Monthly(p Prices, s Store, stores int) Bill {
	n := float64(stores)
	variable := p.Price(m.APIRequest.Times(float64(s.APIRequests))).
		Plus(p.Price(m.Reminder.Times(float64(s.Reminders)))).
		Plus(p.Price(m.Recipient.Times(float64(s.Campaigns * s.Seniors))))
	fixed := p.Price(m.Fixed).Scale(1 / n)
	b := variable.Plus(fixed)
	b.Storage = s.StorageGB*(p.DynamoGBMonth+p.DynamoPITRGB) + s.VoiceStorageGB*p.S3GBMonth
	if !m.Tracing {
		b.XRay = 0
	}
	return b
}

// Measured is Yinling's model. Each figure says where it comes from.
var Measured = Model{
	// tests/latency TestRouteCalls and BenchmarkRoutes, and the per-route tables of
	// BENCHMARKS.md: 2–3 DynamoDB calls per request; on a mix that is mostly page reads
	// (my page, lists) with about one request in five writing, ≈ 2 RRU and ≈ 1.2 WRU per
	// request by AWS's rules (4 KB per RRU, eventually consistent reads half; 1 KB per WRU,
	// transactions double). Billed 30 ms at 128 MB (one client alone books in 17 ms against the
	// emulator; DynamoDB in-region answers in single-digit ms per call). ~600 bytes of log per
	// request (one JSON access line; platform START/END/REPORT lines are INFO, dropped by
	// SystemLogLevel WARN).
	APIRequest: Usage{Invocations: 1, BilledMS: 30, MemoryMB: 128, HTTPAPI: 1, RRU: 2, WRU: 1.2,
		LogBytes: 600, Traces: 1},
	// tests/pipeline BenchmarkDelivery (1,000 reminders): 0.63 calls of ours per reminder, of
	// which ≈ 0.2 SQS (the dispatcher's and the sender's SendMessageBatch per ten), and 0.40
	// poller requests (receives and batch deletes of deliveries and ack-checks); 6.0 capacity
	// units by DynamoDB Local's estimate, priced here all as writes — an upper bound: reads cost
	// a fifth, and the emulator over-counts transactions. One sender and one escalator
	// invocation per batch of ten; the sender's 400 ms waits on the provider.
	Reminder: Usage{Invocations: 0.2, BilledMS: 250, MemoryMB: 128, WRU: 6.0, SQS: 0.2 + 0.40,
		LogBytes: 2 * 400, Traces: 0.2},
	// tests/campaigns BenchmarkCampaign10k: 597 calls (31 SQS) and 1,880 write units for
	// 10,000 members, 44 poller requests, 10 fan-out and 103 chunk invocations (fan-out pages
	// ~2 s, chunks ~5 s of provider calls).
	Recipient: Usage{Invocations: 113.0 / 10000, BilledMS: (10*2000 + 103*5000) / 113.0, MemoryMB: 128,
		RRU: 222.0 / 10000 * 10, WRU: 1880.0 / 10000, SQS: (31 + 44) / 10000.0, LogBytes: 50, Traces: 113.0 / 10000},
	// The dispatcher ticks every minute (43,200 a month): one watermark read, 10 Due-shard
	// Queries, nothing else when nothing is due; 60 ms. Lambda's SQS event source mapping
	// long-polls each queue with 5 pollers of 20 s whether or not anything arrives (AWS's
	// documented minimum; not measurable locally): 3 queues × 5 × 3 a minute.
	Fixed: Usage{Invocations: 43200, BilledMS: 60, MemoryMB: 128, RRU: 43200 * 6, SQS: 3 * 5 * 3 * 43200,
		LogBytes: 43200 * 300, Traces: 43200,
		// shared/pii: the PiiKey, and a Decrypt per cold start that meets a phone (a data key
		// shared by the deployment, one unwrap per process) — say 10,000 cold starts a month.
		KMSKeys: 1, KMS: 10000},
	Tracing: false, // template.yaml's TracingMode defaults to PassThrough
}

// Anchors of DESIGN.md §8 and issue #8, per store-month.
const (
	Budget = 0.50 // DESIGN.md §8
	Floor  = 0.18 // the bare minimum of calls for the same work
	Naive  = 1.67 // one message and one invocation per recipient, a Scan-polling dispatcher
)

// Table writes the bill of each scenario as a Markdown table.
func Table(w io.Writer, p Prices, rows []Row) {
	fmt.Fprintln(w, "| scenario | Lambda | API GW | DynamoDB | SQS | S3 | Logs | X-Ray | KMS | storage | **$/store-month** | × floor | × budget |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, r := range rows {
		b := r.Bill
		fmt.Fprintf(w, "| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | **%.2f** | %.1f× | %.2f× |\n",
			r.Name, b.Lambda, b.APIGateway, b.DynamoDB, b.SQS, b.S3, b.Logs, b.XRay, b.KMS, b.Storage, b.Total(),
			b.Total()/Floor, b.Total()/Budget)
	}
}

// Row is one scenario of Table.
type Row struct {
	Name string
	Bill Bill
}

// Scenarios are the rows BENCHMARKS.md shows.
func Scenarios(p Prices) []Row {
	traced := Measured
	traced.Tracing = true
	return []Row{
		{"one store, own deployment", Measured.Monthly(p, Issue8Store, 1)},
		{"one store of a 50-store chain", Measured.Monthly(p, Issue8Store, 50)},
		{"one store, own deployment, TracingMode=Active", traced.Monthly(p, Issue8Store, 1)},
		{"one store of a 50-store chain, TracingMode=Active", traced.Monthly(p, Issue8Store, 50)},
	}
}

// Summary is the table plus the anchors, as make bench writes it.
func Summary(p Prices) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "Prices: us-east-1 list, checked %s, no free tier. Anchors per store-month: floor $%.2f, naive $%.2f, budget $%.2f.\n\n",
		PricesDate, Floor, Naive, Budget)
	Table(&sb, p, Scenarios(p))
	chain := Measured.Monthly(p, Issue8Store, 50)
	fmt.Fprintf(&sb, "\n50-store chain: $%.2f a month in all.\n", chain.Total()*50)
	return sb.String()
}
