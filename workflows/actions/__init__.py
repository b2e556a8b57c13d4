"""Every human step, one module per flow family: the service that writes and the flow that routes,
in one transaction under the process lock. Screens call these, never a flow's activation."""
