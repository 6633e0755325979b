import { useQuery } from '@tanstack/react-query';
import { Alert, Card, Col, Progress, Row, Segmented, Space, Statistic, Table, Tag, Typography } from 'antd';
import { useMemo, useState } from 'react';
import type { BudgetList, UsageReport, VoucherList, WalletResource } from '../../../src/api/client/schemas.js';
import { useClient } from '../auth.js';
import { EChart } from '../chart.js';
import { when, yuan } from '../format.js';
import { useI18n } from '../i18n.js';

const GROUPS = ['period', 'center', 'chip'] as const;
type Group = (typeof GROUPS)[number];

/** Wallet and usage: balance, vouchers, spending this month by day, center or chip, budget alerts. */
export default function Wallet() {
  const { t, lang } = useI18n();
  const client = useClient();
  const [by, setBy] = useState<Group>('period');
  const wallet = useQuery({ queryKey: ['wallet'], queryFn: () => client.request<WalletResource>('GET', '/v1/wallet'), refetchInterval: 10_000 });
  const vouchers = useQuery({ queryKey: ['vouchers'], queryFn: () => client.request<VoucherList>('GET', '/v1/vouchers') });
  const budgets = useQuery({ queryKey: ['budgets'], queryFn: () => client.request<BudgetList>('GET', '/v1/budgets'), refetchInterval: 10_000 });
  const usage = useQuery({ queryKey: ['usage', by], queryFn: () => client.request<UsageReport>('GET', `/v1/usage?by=${by}`), refetchInterval: 10_000 });
  const rows = usage.data?.rows ?? [];
  const option = useMemo(
    () => ({
      animation: false,
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 60, right: 16, top: 36, bottom: 40 },
      xAxis: { type: 'category', data: rows.map((r) => r.key) },
      yAxis: { type: 'value', name: '¥' },
      series: [
        { type: 'bar', name: t('wallet.paid'), stack: 'bill', data: rows.map((r) => r.userPaid / 100) },
        { type: 'bar', name: t('wallet.voucherShare'), stack: 'bill', data: rows.map((r) => r.voucher / 100) },
      ],
    }),
    [rows, t],
  );
  const w = wallet.data;
  return (
    <Space orientation="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }}>{t('wallet.title')}</Typography.Title>
      {wallet.isError ? <Alert type="error" showIcon title={wallet.error.message} /> : null}
      <Row gutter={[16, 16]}>
        <Col xs={12} md={6}><Card size="small"><Statistic title={t('wallet.available')} value={w ? yuan(w.availableFen) : '—'} /></Card></Col>
        <Col xs={12} md={6}><Card size="small"><Statistic title={t('wallet.paidCredit')} value={w ? yuan(w.paidFen) : '—'} /></Card></Col>
        <Col xs={12} md={6}><Card size="small"><Statistic title={t('wallet.granted')} value={w ? yuan(w.grantedFen) : '—'} /></Card></Col>
        <Col xs={12} md={6}><Card size="small"><Statistic title={t('wallet.held')} value={w ? yuan(w.heldFen) : '—'} /></Card></Col>
      </Row>
      <Card size="small" title={t('wallet.budgets')}>
        {(budgets.data?.items ?? []).length === 0 ? <Typography.Text type="secondary">{t('wallet.noBudgets')}</Typography.Text> : null}
        {(budgets.data?.items ?? []).map((b) => {
          const pct = b.limitFen > 0 ? Math.round((b.spentFen / b.limitFen) * 100) : 100;
          return (
            <div key={b.id} style={{ marginBottom: 12 }}>
              <Space wrap>
                <Typography.Text strong>{t('wallet.budgetLine', { spent: yuan(b.spentFen), limit: yuan(b.limitFen) })}</Typography.Text>
                <Typography.Text type="secondary">{b.periodFrom ? `${when(b.periodFrom, lang)} – ${when(b.periodUntil, lang)}` : t('wallet.notOpen')}</Typography.Text>
                {b.firedBps.map((bps) => <Tag key={bps} color={bps >= 10_000 ? 'red' : 'orange'} role="status">{t('wallet.alert', { pct: bps / 100 })}</Tag>)}
              </Space>
              <Progress percent={Math.min(100, pct)} status={pct >= 100 ? 'exception' : 'normal'} aria-label={t('wallet.budgetUsed', { pct })} />
            </div>
          );
        })}
      </Card>
      <Card
        size="small"
        title={t('wallet.usage')}
        extra={<Segmented<Group> aria-label={t('wallet.groupBy')} value={by} onChange={setBy} options={GROUPS.map((g) => ({ value: g, label: t(`wallet.by.${g}`) }))} />}
      >
        {rows.length === 0 ? <Typography.Text type="secondary">{t('wallet.noUsage')}</Typography.Text> : <EChart option={option} height={280} label={t('wallet.usageChart')} />}
        <Table
          size="small"
          rowKey="key"
          pagination={false}
          scroll={{ x: true }}
          dataSource={rows}
          columns={[
            { title: t(`wallet.by.${by}`), dataIndex: 'key' },
            { title: t('wallet.jobs'), dataIndex: 'jobs' },
            { title: t('wallet.chipHours'), render: (_, r) => r.acceleratorHours.toFixed(2) },
            { title: t('wallet.bill'), render: (_, r) => yuan(r.bill) },
            { title: t('wallet.voucherShare'), render: (_, r) => yuan(r.voucher) },
            { title: t('wallet.paid'), render: (_, r) => yuan(r.userPaid) },
          ]}
        />
      </Card>
      <Card size="small" title={t('wallet.vouchers')}>
        <Table
          size="small"
          rowKey="id"
          pagination={false}
          scroll={{ x: true }}
          locale={{ emptyText: t('wallet.noVouchers') }}
          dataSource={vouchers.data?.items ?? []}
          columns={[
            { title: t('wallet.voucherName'), dataIndex: 'name' },
            { title: t('wallet.coPay'), render: (_, v) => `${v.coPayBps / 100}%` },
            { title: t('wallet.redeemed'), render: (_, v) => yuan(v.redeemed) },
            { title: t('wallet.remaining'), render: (_, v) => (v.remaining === null ? t('wallet.unlimited') : yuan(v.remaining)) },
            { title: t('wallet.validUntil'), render: (_, v) => when(v.validUntil, lang) },
          ]}
        />
      </Card>
      {w && w.grants.length > 0 ? (
        <Card size="small" title={t('wallet.grants')}>
          <Table
            size="small"
            rowKey="id"
            pagination={false}
            dataSource={w.grants}
            columns={[
              { title: t('wallet.amount'), render: (_, g) => yuan(g.amount) },
              { title: t('wallet.remaining'), render: (_, g) => yuan(g.remaining) },
              { title: t('wallet.expires'), render: (_, g) => (g.expiresAt ? when(g.expiresAt, lang) : '—') },
              { title: t('wallet.state'), render: (_, g) => (g.expired ? <Tag>{t('wallet.expired')}</Tag> : <Tag color="green">{t('wallet.active')}</Tag>) },
            ]}
          />
        </Card>
      ) : null}
    </Space>
  );
}
