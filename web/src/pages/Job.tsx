import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Card, Descriptions, Popconfirm, Skeleton, Space, Switch, Table, Tag, Typography } from 'antd';
import { useEffect, useRef, useState } from 'react';
import { useParams } from 'react-router-dom';
import type { LogPage } from '../../../src/api/client/schemas.js';
import { useAuth } from '../auth.js';
import { duration, elapsedSeconds, when, yuan } from '../format.js';
import { useI18n } from '../i18n.js';
import { isFinal, STATE_COLORS, useJobCosts } from '../jobs.js';
import { QuoteTable } from './Launch.js';

type Chunk = LogPage['chunks'][number];

/** One job: state, streaming logs (follow, download), where it ran and why, events, attempts, cancel. */
export default function Job() {
  const { id = '' } = useParams();
  const { t, lang } = useI18n();
  const { client } = useAuth();
  const queries = useQueryClient();
  const detail = useQuery({
    queryKey: ['job', id],
    queryFn: () => client.job(id),
    refetchInterval: (q) => (q.state.data && isFinal(q.state.data.job) ? false : 2_000),
  });
  const cancel = useMutation({
    mutationFn: () => client.cancel(id),
    onSettled: () => queries.invalidateQueries({ queryKey: ['job', id] }),
  });
  const costs = useJobCosts(detail.data ? [detail.data.job] : []);
  if (detail.isPending) return <Skeleton active />;
  if (detail.isError) return <Alert type="error" showIcon title={detail.error.message} />;
  const { job, placements, events } = detail.data;
  const latest = placements[placements.length - 1];
  const cost = costs.get(job.id);
  const elapsed = elapsedSeconds(job.startedAt, job.finishedAt, Date.now());
  return (
    <Space orientation="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }}>{job.name}</Typography.Title>
      <Space wrap>
        <Tag color={STATE_COLORS[job.state]} data-testid="job-state">{t(`state.${job.state}`)}</Tag>
        {!isFinal(job) ? (
          <Popconfirm title={t('job.cancelConfirm')} okText={t('job.cancel')} cancelText={t('common.no')} onConfirm={() => cancel.mutate()}>
            <Button danger loading={cancel.isPending} disabled={job.cancelRequested}>{job.cancelRequested ? t('job.cancelling') : t('job.cancel')}</Button>
          </Popconfirm>
        ) : null}
      </Space>
      {cancel.isError ? <Alert type="error" showIcon title={cancel.error.message} /> : null}
      <Descriptions size="small" bordered column={{ xs: 1, md: 2 }}>
        <Descriptions.Item label={t('job.id')}><code>{job.id}</code></Descriptions.Item>
        <Descriptions.Item label={t('jobs.center')}>{job.center ? `${job.center} / ${job.pool}` : '—'}</Descriptions.Item>
        <Descriptions.Item label={t('job.command')}><code style={{ wordBreak: 'break-all' }}>{job.command.join(' ')}</code></Descriptions.Item>
        <Descriptions.Item label={t('job.resources')}>{t('job.resourcesValue', { nodes: job.nodes, acc: job.acceleratorsPerNode, cores: job.coresPerNode })}</Descriptions.Item>
        <Descriptions.Item label={t('jobs.submitted')}>{when(job.submittedAt, lang)}</Descriptions.Item>
        <Descriptions.Item label={t('jobs.elapsed')}>{elapsed === null ? '—' : duration(elapsed, lang)}</Descriptions.Item>
        <Descriptions.Item label={t('jobs.cost')}>{cost === undefined ? '—' : yuan(cost)}</Descriptions.Item>
        <Descriptions.Item label={t('job.exit')}>{job.exitCode ?? '—'}{job.reason ? ` (${job.reason})` : ''}</Descriptions.Item>
      </Descriptions>
      <Logs jobId={job.id} />
      {latest ? (
        <div data-testid="placement"><QuoteTable explanation={latest.explanation} lang={lang} /></div>
      ) : job.waiting ? (
        <Alert type="info" showIcon title={t('job.waiting')} description={job.waiting.summary} />
      ) : null}
      <Card size="small" title={t('job.attempts')}>
        <Table
          size="small"
          pagination={false}
          rowKey="attempt"
          dataSource={placements}
          columns={[
            { title: t('job.attempt'), dataIndex: 'attempt' },
            { title: t('jobs.center'), render: (_, p) => `${p.center} / ${p.pool}` },
            { title: t('job.decidedAt'), render: (_, p) => when(p.decidedAt, lang) },
          ]}
        />
      </Card>
      <Card size="small" title={t('job.events')}>
        <Table
          size="small"
          pagination={false}
          rowKey={(e) => `${e.at}-${e.attempt}-${e.to}-${e.message}`}
          scroll={{ x: true }}
          dataSource={events}
          columns={[
            { title: t('job.at'), render: (_, e) => when(e.at, lang) },
            { title: t('job.attempt'), dataIndex: 'attempt' },
            { title: t('job.change'), render: (_, e) => (e.to ? `${e.from ?? '∅'} → ${e.to}` : '') },
            { title: t('job.message'), dataIndex: 'message' },
          ]}
        />
      </Card>
    </Space>
  );
}

/** The job's output, streamed by long polls of GET /v1/jobs/{id}/logs until `done`. */
function Logs({ jobId }: { readonly jobId: string }) {
  const { t } = useI18n();
  const { client } = useAuth();
  const [chunks, setChunks] = useState<Chunk[]>([]);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [follow, setFollow] = useState(true);
  const box = useRef<HTMLPreElement>(null);
  useEffect(() => {
    const abort = new AbortController();
    setChunks([]);
    setDone(false);
    void (async () => {
      let after = 0;
      while (!abort.signal.aborted) {
        try {
          const page = await client.logs(jobId, after, 15_000);
          if (abort.signal.aborted) return;
          if (page.chunks.length > 0) setChunks((c) => [...c, ...page.chunks]);
          after = page.next;
          if (page.done) {
            setDone(true);
            return;
          }
        } catch (e) {
          if (abort.signal.aborted) return;
          setError((e as Error).message);
          await new Promise((r) => setTimeout(r, 2_000));
        }
      }
    })();
    return () => abort.abort();
  }, [client, jobId]);
  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [chunks, follow]);
  const text = chunks.map((c) => c.data).join('');
  const download = () => {
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `${jobId}.log`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1_000);
  };
  return (
    <Card
      size="small"
      title={t('job.logs')}
      extra={
        <Space wrap>
          <label><Switch size="small" checked={follow} onChange={setFollow} aria-label={t('job.follow')} /> {t('job.follow')}</label>
          <Button size="small" onClick={download}>{t('job.download')}</Button>
        </Space>
      }
    >
      {error ? <Alert type="warning" showIcon title={error} style={{ marginBottom: 8 }} /> : null}
      <pre ref={box} data-testid="logs" aria-label={t('job.logs')} tabIndex={0} style={{ maxHeight: 360, overflow: 'auto', background: '#0f172a', color: '#e2e8f0', padding: 12, margin: 0, fontSize: 12 }}>
        {chunks.map((c) => <span key={c.seq} style={c.stream === 'stderr' ? { color: '#fca5a5' } : undefined}>{c.data}</span>)}
      </pre>
      <Typography.Text type="secondary" data-testid="logs-status">{done ? t('job.logsDone') : t('job.logsFollowing')}</Typography.Text>
    </Card>
  );
}
