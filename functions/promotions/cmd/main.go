// Command promotions is the promotions function's Lambda entry point.
package main

import (
	"yinling/functions/promotions"
	"yinling/shared/lambdamain"
)

func main() { lambdamain.Run(promotions.Wire, (*promotions.Handler).Handle) }
