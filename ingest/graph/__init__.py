"""The mailbox source over Microsoft Graph: a read-only client, delta queries per folder, and the source itself."""

from ingest.graph.client import GRAPH_ENDPOINT, GRAPH_SCOPE, GraphClient, SyncStateGone
from ingest.graph.source import GRAPH_UIDVALIDITY, GraphMailbox, GraphSink, message_uid, poll_graph_folder, poll_graph_mailbox

__all__ = [
    "GRAPH_ENDPOINT", "GRAPH_SCOPE", "GRAPH_UIDVALIDITY", "GraphClient", "GraphMailbox", "GraphSink", "SyncStateGone",
    "message_uid", "poll_graph_folder", "poll_graph_mailbox",
]
