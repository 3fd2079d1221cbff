// Command qa is the qa function's Lambda entry point.
package main

import (
	"yinling/functions/qa"
	"yinling/shared/lambdamain"
)

func main() { lambdamain.Run(qa.Wire, (*qa.Handler).Handle) }
