// Command sender is the sender function's Lambda entry point.
package main

import (
	"yinling/functions/sender"
	"yinling/shared/lambdamain"
)

func main() { lambdamain.Run(sender.Wire, (*sender.Handler).Handle) }
