// Command netinit is a Lambda that breaks the rule the cold-start test enforces: it calls
// DynamoDB's endpoint during init. The test runs it to show that the harness sees such a call.
package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	if resp, err := http.Get(os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")); err == nil {
		resp.Body.Close()
	}
	lambda.Start(func(context.Context, json.RawMessage) (string, error) { return "ok", nil })
}
