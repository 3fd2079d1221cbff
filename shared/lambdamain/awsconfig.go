package lambdamain

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/logging"
)

// AWSConfig builds the SDK configuration from what the Lambda runtime puts in the environment:
// the region and the execution role's credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN), which is all config.LoadDefaultConfig would find there too. Skipping its
// full chain (shared files, SSO, STS web identity, IMDS) saves 1.6 MB per binary and init work.
//
// The SDK's own endpoint variables keep working — AWS_ENDPOINT_URL and the service-specific
// AWS_ENDPOINT_URL_<SERVICE_ID> (DYNAMODB, SQS, S3, …) — through the SDK's config-source hook, so
// the local stack points every client at the emulators without a line of endpoint code.
//
// SDK log lines go to log as JSON, like everything else the function prints.
func AWSConfig(getenv func(string) string, log *slog.Logger) aws.Config {
	cfg := aws.Config{
		Logger: sdkLogger{log},
		Region: getenv("AWS_REGION"),
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(
			getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"), getenv("AWS_SESSION_TOKEN"))),
		ConfigSources: []any{endpointEnv(getenv)},
	}
	if v := getenv("AWS_ENDPOINT_URL"); v != "" {
		cfg.BaseEndpoint = &v
	}
	return cfg
}

// endpointEnv answers the SDK's per-service endpoint question from AWS_ENDPOINT_URL_<SERVICE_ID>,
// normalised as the SDK does ("DynamoDB" → DYNAMODB, "Pinpoint SMS Voice V2" → PINPOINT_SMS_VOICE_V2).
type endpointEnv func(string) string

func (e endpointEnv) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v := e("AWS_ENDPOINT_URL_" + strings.ReplaceAll(strings.ToUpper(sdkID), " ", "_"))
	return v, v != "", nil
}

// sdkLogger writes the SDK's log lines through slog.
type sdkLogger struct{ log *slog.Logger }

// spuriousCloseWarning is logged by the DynamoDB client for every error response that carries no
// x-amz-crc32 header (DynamoDB sends none on errors, so every conditional-check failure logs it):
// aws/aws-sdk-go-v2#3545. It says nothing about our request, so it is demoted to debug.
const spuriousCloseWarning = "failed to close HTTP response body"

func (l sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	level := slog.LevelDebug
	if c == logging.Warn && !strings.HasPrefix(msg, spuriousCloseWarning) {
		level = slog.LevelWarn
	}
	l.log.Log(context.Background(), level, msg, "source", "aws-sdk")
}
