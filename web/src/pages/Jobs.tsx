import { useQuery } from '@tanstack/react-query';
import { Alert, Select, Space, Table, Tag, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { JOB_STATES } from '../../../src/core/job-state.js';
import { useClient } from '../auth.js';
import { duration, elapsedSeconds, when, yuan } from '../format.js';
import { useI18n } from '../i18n.js';
import { STATE_COLORS, useJobCosts, usePoolChips } from '../jobs.js';

/** Your jobs, live (refreshed every two seconds): state, center, chip, elapsed time, cost. */
export default function Jobs() {
  const { t, lang } = useI18n();
  const client = useClient();
  const [states, setStates] = useState<string[]>([]);
  const jobs = useQuery({
    queryKey: ['jobs', states.join(',')],
    queryFn: () => client.listJobs({ limit: 50, ...(states.length > 0 ? { state: states.join(',') } : {}) }),
    refetchInterval: 2_000,
  });
  const chips = usePoolChips();
  const costs = useJobCosts(jobs.data?.items ?? []);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, []);
  return (
    <Space orientation="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }}>{t('jobs.title')}</Typography.Title>
      <Select
        mode="multiple"
        allowClear
        aria-label={t('jobs.filter')}
        placeholder={t('jobs.filter')}
        style={{ minWidth: 240, maxWidth: 480 }}
        value={states}
        onChange={setStates}
        options={JOB_STATES.map((s) => ({ value: s, label: t(`state.${s}`) }))}
      />
      {jobs.isError ? <Alert type="error" showIcon title={jobs.error.message} /> : null}
      <Table
        aria-label={t('jobs.title')}
        size="small"
        loading={jobs.isPending}
        rowKey="id"
        scroll={{ x: true }}
        pagination={false}
        dataSource={jobs.data?.items ?? []}
        columns={[
          { title: t('jobs.name'), render: (_, j) => <Link to={`/jobs/${j.id}`}>{j.name}</Link> },
          { title: t('jobs.state'), render: (_, j) => <Tag color={STATE_COLORS[j.state]} data-testid="job-state">{t(`state.${j.state}`)}</Tag> },
          { title: t('jobs.center'), render: (_, j) => j.center ?? '—' },
          { title: t('jobs.chip'), render: (_, j) => (j.center && j.pool ? (chips.get(`${j.center}/${j.pool}`) ?? (j.acceleratorsPerNode > 0 ? j.pool : t('quote.cpu'))) : '—') },
          { title: t('jobs.elapsed'), render: (_, j) => { const s = elapsedSeconds(j.startedAt, j.finishedAt, now); return s === null ? '—' : duration(s, lang); } },
          { title: t('jobs.cost'), render: (_, j) => { const c = costs.get(j.id); return c === undefined ? '—' : yuan(c); } },
          { title: t('jobs.submitted'), render: (_, j) => when(j.submittedAt, lang), responsive: ['md'] },
        ]}
      />
    </Space>
  );
}
