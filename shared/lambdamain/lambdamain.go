// Package lambdamain is the whole main of every function: load the function's Env from the
// environment, build the logger (and, for functions that call AWS, the AWS config) once per
// process, build the handler, and hand its Handle method to the Lambda runtime. The local stack
// builds handlers through the same Builder, so both paths run the same wiring.
//
// No network call happens here: the configuration comes from environment variables only.
// Nothing here looks a method up by name either — reflect.Method/MethodByName would make the
// linker keep every exported method of every type in the binary (several MB of SDK code).
package lambdamain

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"

	"yinling/shared/envconfig"
	"yinling/shared/logging"
)

// Builder makes a function's handler from its configuration: each function package's Wire.
type Builder[E, H any] func(env E, cfg aws.Config, log *slog.Logger) H

// Method is a handler's Handle method as a method expression, e.g. (*admin.Handler).Handle.
type Method[H, In, Out any] func(h H, ctx context.Context, event In) (Out, error)

// Bind returns handle bound to h: the function the Lambda runtime calls.
func Bind[H, In, Out any](h H, handle Method[H, In, Out]) func(context.Context, In) (Out, error) {
	return func(ctx context.Context, in In) (Out, error) { return handle(h, ctx, in) }
}

// Run is main for a function that calls AWS. It exits if the configuration is incomplete.
func Run[E, H, In, Out any](build Builder[E, H], handle Method[H, In, Out]) {
	env, log := load[E]()
	lambda.Start(Bind(build(env, AWSConfig(os.Getenv, log), log), handle))
}

// RunWithoutAWS is main for a function that makes no AWS call (the web pages): it does not link
// the SDK's configuration chain, which keeps its binary and cold start small.
func RunWithoutAWS[E, H, In, Out any](build func(env E, log *slog.Logger) H, handle Method[H, In, Out]) {
	env, log := load[E]()
	lambda.Start(Bind(build(env, log), handle))
}

func load[E any]() (E, *slog.Logger) {
	var env E
	envconfig.MustLoad(&env)
	return env, logging.New(os.Stdout, logging.Level(os.Getenv("LOG_LEVEL")))
}
