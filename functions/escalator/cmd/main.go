// Command escalator is the escalator function's Lambda entry point.
package main

import (
	"yinling/functions/escalator"
	"yinling/shared/lambdamain"
)

func main() { lambdamain.Run(escalator.Wire, (*escalator.Handler).Handle) }
