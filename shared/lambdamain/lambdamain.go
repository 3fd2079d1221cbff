// Package lambdamain is the whole main of every function: load the function's Env from the
// environment, build the logger and the AWS config once per process (no network call: credentials
// resolve lazily on the first request), build the handler, and hand its Handle method to the
// Lambda runtime. The local stack builds handlers through the same Build, so both paths run the
// same wiring.
package lambdamain

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"reflect"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"yinling/shared/envconfig"
	"yinling/shared/logging"
)

// Builder makes a function's handler from its configuration: each function package's Wire.
type Builder[E, H any] func(env E, cfg aws.Config, log *slog.Logger) H

// Run is main. It exits the process if the configuration is incomplete.
func Run[E, H any](build Builder[E, H]) {
	var env E
	envconfig.MustLoad(&env)
	log := logging.New(os.Stdout, logging.Level(os.Getenv("LOG_LEVEL")))
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Error("load AWS config", "err", err)
		os.Exit(1)
	}
	lambda.Start(HandleFunc(build(env, cfg, log)))
}

// HandleFunc returns h's Handle method as a value aws-lambda-go accepts. Every function's handler
// has one (DESIGN.md §1); its event type differs per trigger, hence the reflection, done once at
// start.
func HandleFunc(h any) any {
	m := reflect.ValueOf(h).MethodByName("Handle")
	if !m.IsValid() {
		panic(fmt.Sprintf("lambdamain: %T has no Handle method", h))
	}
	return m.Interface()
}
