import { AmbientDataPlane } from './ambient';
import type { MeshView } from './dataPlane';

/**
 * Ambient plus a waypoint: an L7 proxy per destination service, in its own pod on the node of the service's
 * first endpoint. client → node-proxy → waypoint → endpoint node-proxy → server: 4 connections.
 */
export class WaypointDataPlane extends AmbientDataPlane {
  override readonly name = 'waypoint' as const;
  override readonly connectionsPerRequest = 4;
  override readonly pathDescription = 'client → node REDIRECT → source node-proxy (L4) → tunnel → waypoint (L7) → tunnel → destination node-proxy (L4) → server';

  protected override async createWaypointPods(mesh: MeshView): Promise<void> {
    const single = mesh.services.length === 1;
    for (const s of mesh.services) {
      const node = s.endpoints[0]?.node ?? mesh.cluster.nodes[0]?.name ?? 'node1';
      const [pod] = await mesh.cluster.addPods([{ name: single ? 'waypoint' : `waypoint-${s.name}`, node }]);
      if (pod !== undefined) this.waypoints.set(s.name, pod);
    }
  }
}
