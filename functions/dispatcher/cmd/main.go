// Command dispatcher is the dispatcher function's Lambda entry point.
package main

import (
	"yinling/functions/dispatcher"
	"yinling/shared/lambdamain"
)

func main() { lambdamain.Run(dispatcher.Wire, (*dispatcher.Handler).Handle) }
