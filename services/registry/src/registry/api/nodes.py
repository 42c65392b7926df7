"""``/nodes``: the Asterisk nodes in Consul, their health and load; drain and undrain."""

from fastapi import APIRouter

from registry.deps import AdminDep, NodeServiceDep
from registry.schemas import NodePublic, NodesPublic

router = APIRouter(prefix="/nodes", tags=["nodes"], dependencies=[AdminDep])


@router.get("")
async def list_nodes(nodes: NodeServiceDep) -> NodesPublic:
    return await nodes.list_all()


@router.post("/{node_id}/drain")
async def drain_node(node_id: str, nodes: NodeServiceDep) -> NodePublic:
    """Send no new calls to the node (calls in progress continue); the SIP edge follows in seconds."""
    return await nodes.set_drained(node_id, True)


@router.delete("/{node_id}/drain")
async def undrain_node(node_id: str, nodes: NodeServiceDep) -> NodePublic:
    return await nodes.set_drained(node_id, False)
