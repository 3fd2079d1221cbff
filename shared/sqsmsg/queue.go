package sqsmsg

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQS limits that shape a SendMessageBatch call.
const (
	// MaxBatchEntries is the most entries one SendMessageBatch accepts.
	MaxBatchEntries = 10
	// MaxBatchBytes caps both one message and the sum of a batch's bodies.
	// SQS raised its own limit to 1 MiB in 2025, but queues created earlier
	// keep MaximumMessageSize = 256 KiB, so we stay under the old limit,
	// which every queue accepts.
	MaxBatchBytes = 256 << 10
	// MaxDelay is the longest DelaySeconds SQS accepts.
	MaxDelay = 900 * time.Second
)

const (
	maxAttempts = 4
	baseBackoff = 50 * time.Millisecond
	maxIDLen    = 80
)

// SendBatchAPI is the part of *sqs.Client that Queue uses.
type SendBatchAPI interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// Outgoing is one message to send. ID identifies it in errors (it need not be
// a valid SQS batch id: Send derives one); Body is encoded in an Envelope of
// the given Type.
type Outgoing struct {
	ID    string
	Type  string
	Body  any
	Delay time.Duration
}

// Queue sends Envelopes to one SQS queue.
type Queue struct {
	client SendBatchAPI
	url    string
	// sleep waits between retries; tests replace it to record the backoff.
	sleep func(ctx context.Context, d time.Duration) error
}

// NewQueue returns a Queue that sends to the queue at url.
func NewQueue(client SendBatchAPI, url string) *Queue {
	return &Queue{client: client, url: url, sleep: sleep}
}

// Send enqueues msgs in as few SendMessageBatch calls as SQS allows: batches
// of at most MaxBatchEntries entries and MaxBatchBytes of bodies, in order.
// Delays are rounded up to whole seconds and clamped to 0..MaxDelay.
//
// Entries that SQS reports as failed through no fault of ours are retried,
// alone, up to 4 attempts in all with a short jittered exponential backoff;
// entries rejected with SenderFault are not retried. If a whole call fails
// (the SDK has already retried it) Send stops: the cause is almost always
// shared (credentials, queue url, network), so later batches are reported as
// not sent rather than tried.
//
// The error, a *SendError, names every message that was not sent; all the
// others were sent. Messages that fail to encode or exceed MaxBatchBytes are
// reported the same way and do not stop the others.
func (q *Queue) Send(ctx context.Context, msgs []Outgoing) error {
	var failed []Failure
	pend := make([]pending, 0, len(msgs))
	for i, m := range msgs {
		body, err := Encode(m.Type, m.Body)
		if err == nil && len(body) > MaxBatchBytes {
			err = fmt.Errorf("message is %d bytes, over the %d-byte limit", len(body), MaxBatchBytes)
		}
		if err != nil {
			failed = append(failed, Failure{Index: i, ID: m.ID, Err: err})
			continue
		}
		pend = append(pend, pending{index: i, id: m.ID, entry: types.SendMessageBatchRequestEntry{
			Id:           aws.String(entryID(i, m.ID)),
			MessageBody:  aws.String(body),
			DelaySeconds: delaySeconds(m.Delay),
		}})
	}

	batches := split(pend)
	for i, b := range batches {
		var f []Failure
		err := ctx.Err()
		if err != nil {
			for _, p := range b {
				f = append(f, p.failure(err))
			}
		} else {
			f, err = q.sendBatch(ctx, b)
		}
		failed = append(failed, f...)
		if err != nil {
			for _, rest := range batches[i+1:] {
				for _, p := range rest {
					failed = append(failed, p.failure(fmt.Errorf("not attempted: %w", err)))
				}
			}
			break
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return &SendError{Failed: failed}
}

// pending is an encoded message waiting to be sent.
type pending struct {
	index int
	id    string
	entry types.SendMessageBatchRequestEntry
}

func (p pending) failure(err error) Failure {
	return Failure{Index: p.index, ID: p.id, Err: err}
}

// sendBatch sends one batch, retrying the entries SQS failed on its side. It
// returns the entries it could not send and, if a call failed as a whole, that
// call's error.
func (q *Queue) sendBatch(ctx context.Context, batch []pending) ([]Failure, error) {
	var failed []Failure
	todo := batch
	for attempt := 1; ; attempt++ {
		entries := make([]types.SendMessageBatchRequestEntry, len(todo))
		for i, p := range todo {
			entries[i] = p.entry
		}
		out, err := q.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.url), Entries: entries})
		if err != nil {
			err = fmt.Errorf("send message batch: %w", err)
			for _, p := range todo {
				failed = append(failed, p.failure(err))
			}
			return failed, err
		}

		ok := make(map[string]bool, len(out.Successful))
		for _, s := range out.Successful {
			ok[aws.ToString(s.Id)] = true
		}
		bad := make(map[string]types.BatchResultErrorEntry, len(out.Failed))
		for _, f := range out.Failed {
			bad[aws.ToString(f.Id)] = f
		}
		var retry []pending
		var lastErr error
		for _, p := range todo {
			id := aws.ToString(p.entry.Id)
			f, isBad := bad[id]
			switch {
			case isBad && f.SenderFault:
				failed = append(failed, p.failure(fmt.Errorf("rejected by SQS: %s: %s", aws.ToString(f.Code), aws.ToString(f.Message))))
			case isBad:
				lastErr = fmt.Errorf("SQS failure: %s: %s", aws.ToString(f.Code), aws.ToString(f.Message))
				retry = append(retry, p)
			case !ok[id]:
				// Absent from both lists: we cannot know it was sent, and a
				// duplicate is harmless where a loss is not.
				lastErr = fmt.Errorf("SQS did not report entry %s", id)
				retry = append(retry, p)
			}
		}
		if len(retry) == 0 {
			return failed, nil
		}
		if attempt == maxAttempts {
			for _, p := range retry {
				failed = append(failed, p.failure(fmt.Errorf("after %d attempts: %w", maxAttempts, lastErr)))
			}
			return failed, nil
		}
		if err := q.sleep(ctx, backoff(attempt)); err != nil {
			for _, p := range retry {
				failed = append(failed, p.failure(err))
			}
			return failed, err
		}
		todo = retry
	}
}

// split cuts pend, in order, into batches within SQS's count and size limits.
func split(pend []pending) [][]pending {
	var batches [][]pending
	var cur []pending
	size := 0
	for _, p := range pend {
		n := len(aws.ToString(p.entry.MessageBody))
		if len(cur) == MaxBatchEntries || size+n > MaxBatchBytes {
			batches = append(batches, cur)
			cur, size = nil, 0
		}
		cur = append(cur, p)
		size += n
	}
	if len(cur) > 0 {
		batches = append(batches, cur)
	}
	return batches
}

// entryID derives a batch entry id from the message's position and ID. SQS
// allows only [A-Za-z0-9_-], at most 80 characters, unique within the batch:
// the index prefix makes it unique, the sanitised ID keeps it readable.
func entryID(index int, id string) string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(index))
	if id == "" {
		return b.String()
	}
	b.WriteByte('-')
	for _, r := range id {
		if b.Len() == maxIDLen {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// delaySeconds rounds d up to whole seconds, so a message is never visible
// earlier than asked, and clamps it to what SQS accepts.
func delaySeconds(d time.Duration) int32 {
	switch {
	case d <= 0:
		return 0
	case d >= MaxDelay:
		return int32(MaxDelay / time.Second)
	}
	return int32((d + time.Second - 1) / time.Second)
}

// backoff returns the wait before retry n (1-based): 50ms doubled each time,
// with equal jitter so that concurrent senders spread out.
func backoff(n int) time.Duration {
	d := baseBackoff << (n - 1)
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// SendError reports the messages Send could not enqueue; every other message
// was sent.
type SendError struct {
	Failed []Failure
}

// Failure is one message that was not sent: its index in Send's msgs, its ID
// and why.
type Failure struct {
	Index int
	ID    string
	Err   error
}

func (f Failure) name() string {
	if f.ID == "" {
		return "#" + strconv.Itoa(f.Index)
	}
	return f.ID
}

// IDs returns the IDs of the messages that were not sent, in order.
func (e *SendError) IDs() []string {
	ids := make([]string, len(e.Failed))
	for i, f := range e.Failed {
		ids[i] = f.ID
	}
	return ids
}

// Error names every unsent message, grouped by cause so that a batch failing
// for one reason reads as one line.
func (e *SendError) Error() string {
	var causes []string
	byCause := map[string][]string{}
	for _, f := range e.Failed {
		c := f.Err.Error()
		if _, seen := byCause[c]; !seen {
			causes = append(causes, c)
		}
		byCause[c] = append(byCause[c], f.name())
	}
	var b strings.Builder
	fmt.Fprintf(&b, "sqs send: %d message(s) not sent", len(e.Failed))
	for i, c := range causes {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "[%s]: %s", strings.Join(byCause[c], " "), c)
	}
	return b.String()
}

// Unwrap lets errors.Is see the causes, such as context.Canceled.
func (e *SendError) Unwrap() []error {
	errs := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		errs[i] = f.Err
	}
	return errs
}
