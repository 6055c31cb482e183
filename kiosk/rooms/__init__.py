"""One blueprint per room of the hall: kiosk, visitor's ticket, display, counter, ..."""
