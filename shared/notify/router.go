package notify

import "context"

// Route sends the messages Match accepts through Sender.
type Route struct {
	Match  func(Message) bool
	Sender Sender
}

// Router is a Sender that sends each message through the first route whose Match accepts it; a
// route with a nil Match accepts everything, so it belongs last. A message no route accepts is
// refused with ReasonNoRoute.
//
// A store's voice channel, for example:
//
//	notify.Router{
//		{Match: notify.ToMainland, Sender: aliyun}, // AWS cannot call +86 numbers
//		{Sender: aws},
//	}
type Router []Route

// Send implements Sender.
func (r Router) Send(ctx context.Context, m Message) (Receipt, error) {
	for _, rt := range r {
		if rt.Match == nil || rt.Match(m) {
			return rt.Sender.Send(ctx, m)
		}
	}
	return Receipt{}, Permanent(ReasonNoRoute, errText("no route for "+Mask(m.To)+" on "+string(m.Channel)))
}

// ToMainland matches messages to mainland China numbers.
func ToMainland(m Message) bool { return Mainland(m.To) }

// OnChannel matches messages on channel c.
func OnChannel(c Channel) func(Message) bool {
	return func(m Message) bool { return m.Channel == c }
}
