"""The review web app: pages, sign-in, the queue and the safe rendering of messages."""
