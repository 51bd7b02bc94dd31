import { Injectable } from '@nestjs/common';
import { AuditRecorder, type Caller, checkRequired, excerpt, FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@trellis/platform';
import { LineageDirection, LineageNodeKind } from '@trellis/proto/trellis/data/v1/lineage_service_pb';
import type { EntityManager } from 'typeorm';
import type { LineageEdgeEntity, LineageNodeEntity } from './lineage.entity';
import { datasetReferenceNode, datasetReferenceOf, datasetVersionNode, parseNode, PERMISSION_KIND, type ParsedNode } from './lineage-node';
import { LineageRepository, type WalkedEdge } from './lineage.repository';

/** Bounds of one GetLineage answer and one RecordLineage request. */
export const LINEAGE_LIMITS = { defaultDepth: 3, maxDepth: 10, maxNodes: 1000, maxEdges: 5000, maxRecordedEdges: 1000 };

/** The origin of edges recorded by RecordLineage. */
export const EXPLICIT_ORIGIN = 'RecordLineage';

/** A node of an answer. */
export interface LineageNodeView {
  name: string;
  kind: LineageNodeKind;
  projectId: string;
  hidden: boolean;
  depth: number;
}

/** An edge of an answer, between two of its nodes' names. */
export interface LineageEdgeView {
  source: string;
  target: string;
  origin: string;
  createdAt: number;
}

/** An edge to record, as events and callers name it. */
export interface EdgeToRecord {
  source: ParsedNode;
  target: ParsedNode;
}

/** Who recorded edges, and why. */
export interface Recording {
  origin: string;
  creatorId: string;
  /** The project new nodes belong to, unless their name states their own. */
  projectId: string;
  /**
   * The event of the service that owns the nodes says which project they are in, which replaces
   * what an explicit record claimed before it arrived.
   */
  authoritative?: boolean;
}

/**
 * Lineage: edges from what was used to what it produced, recorded from events and calls, and
 * walked a bounded number of hops either way, answering only what the caller may read.
 */
@Injectable()
export class LineageService {
  constructor(
    private readonly repository: LineageRepository,
    private readonly audit: AuditRecorder,
  ) {}

  /** Records the caller's edges in `projectId` (editor rights there, and on any node already known elsewhere), audited. */
  async record(caller: Caller, projectId: string, edges: ReadonlyArray<{ source: string; target: string }>): Promise<number> {
    checkRequired(projectId, 'project_id');
    caller.assert('update', PERMISSION_KIND[LineageNodeKind.DATASET_VERSION], { projectId });
    if (edges.length === 0) throw new InvalidArgumentError('name at least one edge', 'edges');
    if (edges.length > LINEAGE_LIMITS.maxRecordedEdges) throw new InvalidArgumentError(`holds ${edges.length} edges; the limit is ${LINEAGE_LIMITS.maxRecordedEdges}`, 'edges');
    const parsed = edges.map((edge, index): EdgeToRecord => {
      const source = parseNode(edge.source, `edges[${index}].source`);
      const target = parseNode(edge.target, `edges[${index}].target`);
      if (source.name === target.name) throw new InvalidArgumentError('an edge cannot lead from a node to itself', `edges[${index}].target`);
      for (const [node, end] of [[source, 'source'], [target, 'target']] as const) {
        if (node.projectId !== undefined && node.projectId !== projectId) {
          throw new InvalidArgumentError(`names project ${excerpt(node.projectId)}, not ${excerpt(projectId)}`, `edges[${index}].${end}`);
        }
      }
      return { source, target };
    });
    return this.repository.transaction(async (tx) => {
      const names = [...new Set(parsed.flatMap((edge) => [edge.source.name, edge.target.name]))];
      for (const known of await this.repository.nodes(tx, names)) {
        if (known.projectId !== projectId && !caller.can('update', PERMISSION_KIND[known.kind as LineageNodeKind], { projectId: known.projectId })) {
          throw new FailedPreconditionError(`${excerpt(known.name)} is recorded in another project, where you are not an editor`, { reason: 'LINEAGE_PROJECT_MISMATCH', resource: known.name });
        }
      }
      const recorded = await this.recordIn(tx, parsed, { origin: EXPLICIT_ORIGIN, creatorId: caller.authenticated.id, projectId });
      await this.audit.recordIn(tx, caller, { id: `${recorded} new of ${parsed.length} edges`, projectId });
      return recorded;
    });
  }

  /**
   * Edges from each dataset version that `sources` reference (`datasets:/` sources of a run's or a
   * job's inputs) to `target`. A reference to a dataset of `projectId` becomes its version's node, a
   * tag resolved as it stands now; one that resolves to nothing (no such dataset or tag) is kept as
   * the reference's own node; a source that is no reference is skipped.
   */
  async inputEdges(tx: EntityManager, projectId: string, sources: readonly string[], target: ParsedNode): Promise<EdgeToRecord[]> {
    const edges: EdgeToRecord[] = [];
    for (const source of sources) {
      const found = datasetReferenceOf(source);
      if (!found) continue;
      const resolved = await this.repository.resolveReference(tx, projectId, found.parsed);
      const name = resolved ? datasetVersionNode(resolved.datasetId, resolved.version) : datasetReferenceNode(projectId, found.reference);
      edges.push({ source: { name, kind: LineageNodeKind.DATASET_VERSION, projectId }, target });
    }
    return edges;
  }

  /** Records edges inside `tx` (an event handler's): nodes new to lineage join `recording.projectId`. Returns how many edges were new. */
  async recordIn(tx: EntityManager, edges: readonly EdgeToRecord[], recording: Recording): Promise<number> {
    const now = Date.now();
    const nodes = new Map<string, LineageNodeEntity>();
    for (const node of edges.flatMap((edge) => [edge.source, edge.target])) {
      nodes.set(node.name, { name: node.name, kind: node.kind, projectId: node.projectId ?? recording.projectId, createdAt: now });
    }
    await this.repository.insertNodes(tx, [...nodes.values()], recording.authoritative);
    const rows = new Map<string, LineageEdgeEntity>();
    for (const edge of edges) {
      rows.set(`${edge.source.name}\u0000${edge.target.name}`, { source: edge.source.name, target: edge.target.name, origin: recording.origin, creatorId: recording.creatorId, createdAt: now });
    }
    return this.repository.insertEdges(tx, [...rows.values()]);
  }

  /**
   * The nodes and edges within `depth` hops of `node`. Nodes of projects the caller may not read
   * are hidden (`hidden/{n}`, no kind, no project) but walked through, so a path through them
   * still shows; the start itself must be readable, else it is not found.
   */
  async get(caller: Caller, node: string, direction: LineageDirection, depth: number): Promise<{ nodes: LineageNodeView[]; edges: LineageEdgeView[] }> {
    const start = parseNode(node, 'node');
    const hops = depth === 0 ? LINEAGE_LIMITS.defaultDepth : depth;
    if (hops < 1 || hops > LINEAGE_LIMITS.maxDepth) throw new InvalidArgumentError(`is ${depth}; walk 1 to ${LINEAGE_LIMITS.maxDepth} hops (0 means ${LINEAGE_LIMITS.defaultDepth})`, 'depth');
    // One read transaction for the whole walk: a consistent graph, and no round trips to open one per hop.
    return this.repository.transaction(async (tx) => {
      const [recorded] = await this.repository.nodes(tx, [start.name]);
      if (!recorded || !caller.can('read', PERMISSION_KIND[recorded.kind as LineageNodeKind], { projectId: recorded.projectId })) {
        throw new NotFoundError(`no lineage is recorded for ${excerpt(start.name)}`, { reason: 'LINEAGE_NODE_NOT_FOUND', resource: start.name });
      }
      const reached = new Map<string, { kind: number; projectId: string; depth: number }>([[recorded.name, { kind: recorded.kind, projectId: recorded.projectId, depth: 0 }]]);
      const edges = new Map<string, LineageEdgeView>();
      const ways = direction === LineageDirection.BOTH ? [true, false] : [direction !== LineageDirection.DOWNSTREAM];
      for (const upstream of ways) await this.walk(tx, start.name, upstream, hops, reached, edges);
      return present(caller, start.name, reached, [...edges.values()]);
    });
  }

  /** Expands the frontier hop by hop (a cycle ends where it meets a node already reached), failing past the bounds. */
  private async walk(tx: EntityManager, start: string, upstream: boolean, hops: number, reached: Map<string, { kind: number; projectId: string; depth: number }>, edges: Map<string, LineageEdgeView>): Promise<void> {
    let frontier = [start];
    const seen = new Set(frontier);
    for (let depth = 1; depth <= hops && frontier.length > 0; depth++) {
      const found: WalkedEdge[] = await this.repository.hop(tx, frontier, upstream, LINEAGE_LIMITS.maxEdges + 1);
      const next: string[] = [];
      for (const edge of found) {
        edges.set(`${edge.source}\u0000${edge.target}`, { source: edge.source, target: edge.target, origin: edge.origin, createdAt: edge.createdAt });
        if (seen.has(edge.far.name)) continue;
        seen.add(edge.far.name);
        next.push(edge.far.name);
        const earlier = reached.get(edge.far.name);
        if (!earlier || earlier.depth > depth) reached.set(edge.far.name, { kind: edge.far.kind, projectId: edge.far.projectId, depth });
      }
      if (found.length > LINEAGE_LIMITS.maxEdges || edges.size > LINEAGE_LIMITS.maxEdges || reached.size > LINEAGE_LIMITS.maxNodes) {
        throw new InvalidArgumentError(
          `the lineage within ${hops} hops of ${excerpt(start)} holds more than ${LINEAGE_LIMITS.maxNodes} nodes or ${LINEAGE_LIMITS.maxEdges} edges (${depth} hops reached them); ask for fewer hops or one direction`,
          'depth',
          { reason: 'LINEAGE_TOO_LARGE', resource: start },
        );
      }
      frontier = next;
    }
  }
}

/** The answer: readable nodes as they are, the others hidden under names of this answer only. */
function present(caller: Caller, start: string, reached: Map<string, { kind: number; projectId: string; depth: number }>, edges: LineageEdgeView[]) {
  const ordered = [...reached].sort(([a, left], [b, right]) => (a === start ? -1 : b === start ? 1 : left.depth - right.depth || (a < b ? -1 : a > b ? 1 : 0)));
  const shown = new Map<string, string>();
  let hidden = 0;
  const nodes = ordered.map(([name, node]): LineageNodeView => {
    if (caller.can('read', PERMISSION_KIND[node.kind as LineageNodeKind], { projectId: node.projectId })) {
      shown.set(name, name);
      return { name, kind: node.kind as LineageNodeKind, projectId: node.projectId, hidden: false, depth: node.depth };
    }
    const alias = `hidden/${++hidden}`;
    shown.set(name, alias);
    return { name: alias, kind: LineageNodeKind.UNSPECIFIED, projectId: '', hidden: true, depth: node.depth };
  });
  const isHidden = (name: string) => shown.get(name) !== name;
  const views = edges
    .map((edge) => ({ source: shown.get(edge.source) ?? '', target: shown.get(edge.target) ?? '', ...(isHidden(edge.source) || isHidden(edge.target) ? { origin: '', createdAt: 0 } : { origin: edge.origin, createdAt: edge.createdAt }) }))
    .sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
  return { nodes, edges: views };
}
