// Command fanout is the fanout function's Lambda entry point.
package main

import (
	"yinling/functions/fanout"
	"yinling/shared/lambdamain"
)

func main() { lambdamain.Run(fanout.Wire, (*fanout.Handler).Handle) }
