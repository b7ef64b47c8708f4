package order

// ToEvent is toEvent for the black-box tests: they encode the OrderPlaced
// an accepted body produces to check its size.
var ToEvent = toEvent
