// Package smsvoice holds what the two adapters of AWS End User Messaging SMS and Voice v2
// (awsvoice, awssms) share: the retry policy, the event Context, and the classification of the
// API's errors into permanent and transient.
package smsvoice

import (
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/pinpointsmsvoicev2"
	"github.com/aws/aws-sdk-go-v2/service/pinpointsmsvoicev2/types"

	"yinling/shared/notify"
)

// DefaultMaxAttempts is how many times a throttled send is tried before giving up for now.
const DefaultMaxAttempts = 3

// maxBackoff caps the wait between throttled attempts; the sender function has a few seconds
// per record, and SQS redelivery is the retry after that.
const maxBackoff = time.Second

// RetryOnlyThrottled returns an operation option that replaces the client's retryer for one
// send: the SDK's default retries 5xx answers and broken connections, which for SendVoiceMessage
// or SendTextMessage (no idempotency token) can call or text a senior twice. A throttled request
// was refused before it was accepted, so retrying it is safe; every other failure goes back to
// the caller, whose claim on the message id decides.
func RetryOnlyThrottled(maxAttempts int) func(*pinpointsmsvoicev2.Options) {
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}
	r := retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = maxAttempts
		o.MaxBackoff = maxBackoff
		o.Retryables = []retry.IsErrorRetryable{
			retry.RetryableErrorCode{Codes: map[string]struct{}{"ThrottlingException": {}}},
		}
	})
	return func(o *pinpointsmsvoicev2.Options) { o.Retryer = r }
}

// Context is the custom data the API logs to the configuration set's event destinations: enough
// to match a delivery event to our message, and nothing personal.
func Context(m notify.Message) map[string]string {
	c := map[string]string{"message_id": m.ID}
	if m.StoreID != "" {
		c["store_id"] = m.StoreID
	}
	if m.Kind != "" {
		c["kind"] = m.Kind
	}
	return c
}

// Classify turns an API error into a notify error. ValidationException and ConflictException
// (opted out, country blocked, malformed number) are permanent: the same request fails again.
// ThrottlingException and InternalServerException are transient, and so are AccessDenied,
// ResourceNotFound and ServiceQuotaExceeded: those are our configuration or quota, not the
// message — a retry after the fix (or a DLQ redrive) delivers it.
func Classify(op string, err error) error {
	if err == nil {
		return nil
	}
	var ve *types.ValidationException
	if errors.As(err, &ve) {
		reason := notify.ReasonRejected
		switch ve.Reason {
		case types.ValidationExceptionReasonCannotAddOptedOutNumber:
			reason = notify.ReasonOptedOut
		case types.ValidationExceptionReasonDestinationCountryBlocked,
			types.ValidationExceptionReasonInvalidIdentityForDestinationCountry:
			reason = notify.ReasonNoRoute
		}
		return notify.Permanent(reason, fmt.Errorf("%s: %w", op, err))
	}
	var ce *types.ConflictException
	if errors.As(err, &ce) {
		reason := notify.ReasonRejected
		switch ce.Reason {
		case types.ConflictExceptionReasonDestinationPhoneNumberOptedOut:
			reason = notify.ReasonOptedOut
		case types.ConflictExceptionReasonDestinationCountryBlockedByProtectConfiguration:
			reason = notify.ReasonNoRoute
		}
		return notify.Permanent(reason, fmt.Errorf("%s: %w", op, err))
	}
	return fmt.Errorf("%s: %w", op, err)
}
