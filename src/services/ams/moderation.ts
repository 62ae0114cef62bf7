/**
 * The emulated moderation: a deterministic outcome chosen by markers the
 * user controls, and the AudioResult segments it produces.
 */
import type { Outcome, Suggestion } from './model';
import type { AudioResult, AudioSegments } from '../../spec/ams.types';

const LABELS: Record<string, string> = {
  porn: 'Porn',
  abuse: 'Abuse',
  ad: 'Ad',
  moan: 'Moan',
  custom: 'Custom',
  polity: 'Polity',
  terror: 'Terror',
  illegal: 'Illegal',
};

const ERRORS: Record<string, { type: string; description: string }> = {
  download: { type: 'URL_ERROR', description: 'The media could not be downloaded from the given address.' },
  decode: { type: 'DECODE_ERROR', description: 'The media could not be decoded as audio.' },
  timeout: { type: 'TIMEOUT', description: 'The moderation of the media timed out.' },
};

const MARKER = /(?:^|[^a-z0-9])(block|review|pass|error)(?:[-_]([a-z]+))?(?=$|[^a-z0-9])/;

/**
 * The outcome is chosen by the first marker found in DataId, then Name, then
 * the media address (URL or COS object key), then BizType: `block-<label>`,
 * `review-<label>`, `pass`, or `error[-download|-decode|-timeout]`. Without
 * one, the audio passes (Normal). See docs/ams.md.
 */
export function decideOutcome(sources: string[]): Outcome {
  for (const s of sources) {
    const m = MARKER.exec(s.toLowerCase());
    if (!m) continue;
    const [, verb, arg] = m;
    if (verb === 'pass') return { suggestion: 'Pass', label: 'Normal', error: null };
    if (verb === 'error') return { suggestion: 'Pass', label: 'Normal', error: ERRORS[arg ?? ''] ?? ERRORS.download };
    const label = LABELS[arg ?? ''] ?? 'Porn';
    return { suggestion: verb === 'block' ? 'Block' : 'Review', label, error: null };
  }
  return { suggestion: 'Pass', label: 'Normal', error: null };
}

export const SUB_LABELS: Record<string, string> = { Porn: 'SexualBehavior', Abuse: 'Uncivilized', Moan: 'Moan' };

export const scoreOf = (s: Suggestion): number => (s === 'Block' ? 95 : s === 'Review' ? 70 : 0);

/** One AudioResult: a hit of the outcome's label, or a clean stretch. */
export function audioResult(o: Outcome, hit: boolean, startS: number, durationMs: number): AudioResult {
  const label = hit ? o.label : 'Normal';
  const suggestion = hit ? o.suggestion : 'Pass';
  const score = hit ? scoreOf(o.suggestion) : 0;
  const subLabel = hit ? SUB_LABELS[label] ?? '' : '';
  const text = hit ? `simulated speech containing ${label} content` : 'simulated speech';
  const endS = startS + Math.round(durationMs / 1000);
  return {
    HitFlag: hit ? 1 : 0,
    Label: label,
    Suggestion: suggestion,
    Score: score,
    Text: text,
    Url: '',
    Duration: String(durationMs),
    Extra: '',
    TextResults: hit && label !== 'Moan'
      ? [{ Label: label, Keywords: [label.toLowerCase()], LibId: '', LibName: '', Score: score, Suggestion: suggestion, LibType: 1, SubLabel: subLabel, HitInfos: [] }]
      : [],
    MoanResults: hit && label === 'Moan'
      ? [{ Label: 'Moan', Score: score, StartTime: startS, EndTime: endS, SubLabelCode: '', SubLabel: subLabel, Suggestion: suggestion }]
      : [],
    LanguageResults: [],
    SubLabel: subLabel,
    RecognitionResults: [],
    SpeakerResults: [],
    LabelResults: [],
    TravelResults: [],
    SubTag: '',
    SubTagCode: '',
    HitType: '',
    Sentences: [{ Text: text, StartTime: String(startS), EndTime: String(endS) }],
    RequestId: '',
    AIGCRecognitionResults: [],
  };
}

/** Segments of an on-demand file: three of 15 s, the middle one carrying any hit. */
export const AUDIO_SEGMENT_MS = 15_000;
export function fileSegments(o: Outcome, now: number): AudioSegments[] {
  const createdAt = new Date(now).toISOString();
  return [0, 1, 2].map((i) => ({
    OffsetTime: String(i * 15),
    Result: audioResult(o, i === 1 && o.suggestion !== 'Pass', i * 15, AUDIO_SEGMENT_MS),
    CreatedAt: createdAt,
  }));
}

/** One segment of a live stream, at unix time `now`. */
export function liveSegment(o: Outcome, now: number): AudioSegments {
  const s = Math.floor(now / 1000);
  return { OffsetTime: String(s), Result: audioResult(o, o.suggestion !== 'Pass', 0, AUDIO_SEGMENT_MS), CreatedAt: new Date(now).toISOString() };
}

