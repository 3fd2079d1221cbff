// Command hello is the smallest Go Lambda: the floor the functions' cold starts are compared
// with, built and started exactly as they are.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, json.RawMessage) (string, error) { return "hello", nil })
}
