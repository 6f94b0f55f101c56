import { describe, expect, it } from 'vitest';
import { applyBoardQuery, boardQueryToParams, parseBoardQuery } from '../../src/model/boardQuery';
import { newJob, type Job } from '../../src/model/job';

const job = (id: string, fields: Partial<Job>): Job => ({ ...newJob(fields.sourceId ?? 'a', id, fields.platform ?? 'codebegen'), title: id, ...fields });
const jobs = [
  job('j3', { status: 'running', progress: 40, stage: 'code_generation', etaAt: 300, message: 'writing users.py' }),
  job('j2', { status: 'completed', progress: 100, platform: 'takoss', sourceId: 'b', stage: 'complete' }),
  job('j1', { status: 'running', progress: 80, stage: 'code_review', etaAt: 100 }),
];

describe('board query', () => {
  it('reads only valid values from the URL and writes back only what differs from the default', () => {
    const query = parseBoardQuery({ status: 'running', platform: 'nope', sort: 'eta', q: 'users' });
    expect(query).toEqual({ status: 'running', platform: undefined, source: undefined, stage: undefined, q: 'users', sort: 'eta' });
    expect(boardQueryToParams(query)).toEqual({ status: 'running', q: 'users', sort: 'eta' });
    expect(boardQueryToParams(parseBoardQuery({}))).toEqual({});
  });

  it('filters by status, platform, source, stage and text, and sorts', () => {
    expect(applyBoardQuery(jobs, parseBoardQuery({ status: 'running' })).map((item) => item.jobId)).toEqual(['j3', 'j1']);
    expect(applyBoardQuery(jobs, parseBoardQuery({ platform: 'takoss' })).map((item) => item.jobId)).toEqual(['j2']);
    expect(applyBoardQuery(jobs, parseBoardQuery({ source: 'a', stage: 'code_review' })).map((item) => item.jobId)).toEqual(['j1']);
    expect(applyBoardQuery(jobs, parseBoardQuery({ q: 'USERS.py' })).map((item) => item.jobId)).toEqual(['j3']);
    expect(applyBoardQuery(jobs, parseBoardQuery({ sort: 'progress' })).map((item) => item.jobId)).toEqual(['j2', 'j1', 'j3']);
    expect(applyBoardQuery(jobs, parseBoardQuery({ sort: 'eta' })).map((item) => item.jobId)).toEqual(['j1', 'j3', 'j2']);
    expect(applyBoardQuery(jobs, parseBoardQuery({ sort: 'oldest' })).map((item) => item.jobId)).toEqual(['j1', 'j2', 'j3']);
  });
});
