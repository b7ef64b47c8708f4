package order

// ToEvent is toEvent for the black-box tests: they encode the OrderPlaced
// an accepted body produces to check its size.
var ToEvent = toEvent

// QMarkPublishedAll is the PostgreSQL statement of MarkPublished, for the
// test of its plan.
const QMarkPublishedAll = qMarkPublishedAll
