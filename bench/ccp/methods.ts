// The methods of the accuracy study: the paper's four pair losses with and without CCP, XBM on C2, and the
// three proxy baselines (spec §3, §6). Names follow the paper's tables.
export interface StudyMethod {
  /** Short id used on the command line (--methods) and in file names. */
  id: string;
  /** The paper's name (table rows). */
  label: string;
  /** loss.name of the run config. */
  loss: string;
  /** The base method a CCP / XBM row is compared with (its own id for base rows). */
  base: string;
  kind: 'pair' | 'ccp' | 'xbm' | 'proxy';
}

export const STUDY_METHODS: readonly StudyMethod[] = [
  { id: 'c1', label: 'C1', loss: 'original_contrastive', base: 'c1', kind: 'pair' },
  { id: 'c1-ccp', label: 'C1-CCP', loss: 'ccp/original_contrastive', base: 'c1', kind: 'ccp' },
  { id: 'c2', label: 'C2', loss: 'contrastive', base: 'c2', kind: 'pair' },
  { id: 'c2-xbm', label: 'C2-XBM', loss: 'xbm/contrastive', base: 'c2', kind: 'xbm' },
  { id: 'c2-ccp', label: 'C2-CCP', loss: 'ccp/contrastive', base: 'c2', kind: 'ccp' },
  { id: 'ms', label: 'MS', loss: 'multi_similarity', base: 'ms', kind: 'pair' },
  { id: 'ms-ccp', label: 'MS-CCP', loss: 'ccp/multi_similarity', base: 'ms', kind: 'ccp' },
  { id: 'triplet', label: 'Triplet', loss: 'triplet', base: 'triplet', kind: 'pair' },
  { id: 'triplet-ccp', label: 'Triplet-CCP', loss: 'ccp/triplet', base: 'triplet', kind: 'ccp' },
  { id: 'proxy-anchor', label: 'ProxyAnchor', loss: 'proxy_anchor', base: 'proxy-anchor', kind: 'proxy' },
  { id: 'proxy-nca', label: 'ProxyNCA++', loss: 'proxy_nca', base: 'proxy-nca', kind: 'proxy' },
  { id: 'soft-triple', label: 'SoftTriple', loss: 'soft_triple', base: 'soft-triple', kind: 'proxy' },
];

/** Resolves a comma-separated list of ids (or 'all'); the error lists the valid ids. */
export function selectMethods(spec: string): StudyMethod[] {
  if (spec.trim() === 'all') return [...STUDY_METHODS];
  const ids = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (ids.length === 0) throw new Error('--methods: no method given');
  return ids.map((id) => {
    const m = STUDY_METHODS.find((x) => x.id === id.toLowerCase() || x.label.toLowerCase() === id.toLowerCase());
    if (!m) throw new Error(`--methods: unknown method '${id}' (expected 'all' or some of ${STUDY_METHODS.map((x) => x.id).join(', ')})`);
    return m;
  });
}
