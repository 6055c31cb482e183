"""Service quality (好差评): ratings, complaints, follow-ups, rectification of bad ratings, their figures."""
