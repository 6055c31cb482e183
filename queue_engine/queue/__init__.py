"""The queue itself: issuing, calling, counter duty, numbering, call order, estimates, screens, day close."""
