import { useMutation, useQuery } from '@tanstack/react-query';
import { Alert, Button, Card, Form, Input, InputNumber, Select, Skeleton, Space, Switch, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useNavigate, useParams } from 'react-router-dom';
import type { ExplanationResource } from '../../../src/api/client/schemas.js';
import { ApiError } from '../../../src/api/client/client.js';
import { planLaunch, type LaunchRequest } from '../../../src/catalog/launch.js';
import { describeSpec, type ParameterSpec, type ParameterValue } from '../../../src/catalog/parameters.js';
import { useClient } from '../auth.js';
import { duration, yuan } from '../format.js';
import { useI18n } from '../i18n.js';
import { asManifest, type Manifest } from '../manifest.js';

const OBJECTIVES = ['balanced', 'cheapest', 'fastest', 'greenest'] as const;
type Objective = (typeof OBJECTIVES)[number];

/** What the form holds: parameter inputs as typed (text, or a switch's boolean), and the launch options. */
interface LaunchForm {
  readonly params: Record<string, string | boolean | undefined>;
  readonly acceleratorsPerNode: number | null;
  readonly walltimeMinutes: number | null;
  readonly accelerators: string[];
  readonly objective: Objective;
}

/**
 * Launch an app: a form generated from its JSON-Schema parameters, checked in the browser by the
 * server's own code (src/catalog/launch.ts → parameters.ts, so the messages are the server's), then a
 * quote (where it would run, cost, carbon, and why not elsewhere), then submit.
 */
export default function Launch() {
  const { name = '' } = useParams();
  const { t } = useI18n();
  const client = useClient();
  const detail = useQuery({ queryKey: ['product', name], queryFn: () => client.product(name) });
  if (detail.isPending) return <Skeleton active />;
  if (detail.isError) return <Alert type="error" showIcon title={detail.error.message} />;
  const version = detail.data.versions.find((v) => v.status === 'listed') ?? detail.data.versions[0];
  const manifest = version ? asManifest(version.manifest) : null;
  if (!version || !manifest?.app) return <Alert type="warning" showIcon title={t('launch.notRunnable', { name })} />;
  return <LaunchApp manifest={manifest} version={version.version} title={detail.data.product.title} />;
}

function LaunchApp({ manifest, version, title }: { readonly manifest: Manifest; readonly version: string; readonly title: string }) {
  const app = manifest.app!;
  const { t, lang } = useI18n();
  const client = useClient();
  const navigate = useNavigate();
  const [form] = Form.useForm<LaunchForm>();
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  const [checked, setChecked] = useState<ReturnType<typeof planLaunch> | null>(null);
  const properties = Object.entries(app.parameters.properties);
  const chips = Object.keys(app.adaptation);
  const [initial] = useState<LaunchForm>(
    () => ({
      params: Object.fromEntries(properties.map(([k, spec]) => [k, spec.type === 'boolean' ? (spec.default ?? false) : spec.default === undefined ? undefined : String(spec.default)])),
      acceleratorsPerNode: app.resources.defaults.acceleratorsPerNode,
      walltimeMinutes: Math.ceil(app.resources.defaults.walltimeSeconds / 60),
      accelerators: [],
      objective: 'balanced',
    }),
  );

  /** The launch request the form describes (parameters as typed: the shared code coerces them as the server does). */
  const requestOf = (v: LaunchForm): LaunchRequest => {
    const params: Record<string, ParameterValue> = {};
    for (const [k, value] of Object.entries(v.params ?? {})) if (value !== undefined && value !== '') params[k] = value;
    return {
      params,
      resources: {
        ...(v.acceleratorsPerNode === null ? {} : { acceleratorsPerNode: v.acceleratorsPerNode }),
        ...(v.walltimeMinutes === null ? {} : { walltimeSeconds: Math.round(v.walltimeMinutes * 60) }),
      },
      ...(v.accelerators.length > 0 ? { accelerators: v.accelerators } : {}),
    };
  };
  const check = () => {
    const v = form.getFieldsValue(true) as LaunchForm;
    const result = planLaunch(manifest, requestOf(v));
    setChecked(result);
    setServerErrors({});
    return { v, result };
  };
  const fieldErrors: Record<string, string> = { ...serverErrors };
  if (checked && !checked.ok) for (const e of checked.errors) fieldErrors[e.field] ??= e.message;

  const quote = useMutation({
    mutationFn: async () => {
      const { v, result } = check();
      if (!result.ok) return null;
      const p = result.plan;
      const variant = Object.values(p.variants)[0]!;
      return client.quote({
        command: [...variant.command],
        acceleratorsPerNode: p.resources.acceleratorsPerNode,
        nodes: p.resources.nodes,
        coresPerNode: p.resources.coresPerNode,
        memoryMiBPerNode: p.resources.memoryMiBPerNode,
        walltimeSeconds: p.resources.walltimeSeconds,
        accelerators: [...p.accelerators],
        objective: v.objective,
        ...(p.runtimeSeconds !== null ? { runtimeSeconds: p.runtimeSeconds } : {}),
        ...(p.referenceAccelerator !== null ? { referenceAccelerator: p.referenceAccelerator } : {}),
      });
    },
  });
  const launch = useMutation({
    mutationFn: async () => {
      const { v, result } = check();
      if (!result.ok) return null;
      return client.launch(manifest.name, { version, params: { ...result.plan.parameters }, resources: { ...requestOf(v).resources }, ...(v.accelerators.length > 0 ? { accelerators: v.accelerators } : {}), objective: v.objective });
    },
    onSuccess: (job) => {
      if (job) void navigate(`/jobs/${job.id}`);
    },
    onError: (error) => {
      if (error instanceof ApiError && error.field) setServerErrors({ [error.field]: error.message });
    },
  });
  const launchError = launch.error instanceof ApiError && !launch.error.field ? launch.error : null;

  return (
    <Space orientation="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }}>{t('launch.title', { title })}</Typography.Title>
      <Typography.Text type="secondary">{t('launch.version', { name: manifest.name, version })}</Typography.Text>
      <Form form={form} layout="vertical" initialValues={initial} onValuesChange={() => (checked ? check() : undefined)} onFinish={() => launch.mutate()} aria-label={t('launch.form')}>
        <Card size="small" title={t('launch.parameters')}>
          {properties.length === 0 ? <Typography.Text type="secondary">{t('launch.noParameters')}</Typography.Text> : null}
          {properties.map(([key, spec]) => (
            <ParameterField key={key} name={key} spec={spec} required={app.parameters.required.includes(key)} error={fieldErrors[`params.${key}`]} />
          ))}
        </Card>
        <Card size="small" title={t('launch.options')} style={{ marginTop: 16 }}>
          <Form.Item label={t('launch.acceleratorsPerNode')} name="acceleratorsPerNode" validateStatus={fieldErrors['resources.acceleratorsPerNode'] ? 'error' : undefined} help={fieldErrors['resources.acceleratorsPerNode']}>
            <InputNumber min={0} precision={0} style={{ width: 160 }} />
          </Form.Item>
          <Form.Item label={t('launch.walltime')} name="walltimeMinutes" validateStatus={fieldErrors['resources.walltimeSeconds'] ? 'error' : undefined} help={fieldErrors['resources.walltimeSeconds']}>
            <InputNumber min={1} precision={0} style={{ width: 160 }} />
          </Form.Item>
          {chips.length > 0 ? (
            <Form.Item label={t('launch.chips')} name="accelerators" extra={t('launch.chipsHelp')}>
              <Select mode="multiple" allowClear options={chips.map((c) => ({ value: c, label: c }))} placeholder={t('launch.anyChip')} />
            </Form.Item>
          ) : null}
          <Form.Item label={t('launch.objective')} name="objective">
            <Select options={OBJECTIVES.map((o) => ({ value: o, label: t(`objective.${o}`) }))} style={{ maxWidth: 240 }} />
          </Form.Item>
        </Card>
        {checked && !checked.ok ? (
          <Alert role="alert" type="error" showIcon style={{ marginTop: 16 }} title={t('launch.fix')} description={<ul style={{ margin: 0 }}>{checked.errors.map((e) => <li key={e.field}>{e.message}{e.hint ? ` — ${e.hint}` : ''}</li>)}</ul>} />
        ) : null}
        {launchError ? <Alert role="alert" type="error" showIcon style={{ marginTop: 16 }} title={launchError.message} description={launchError.hint} /> : null}
        {Object.entries(serverErrors).map(([field, message]) => <Alert key={field} role="alert" type="error" showIcon style={{ marginTop: 16 }} title={message} />)}
        <Space style={{ marginTop: 16 }} wrap>
          <Button onClick={() => quote.mutate()} loading={quote.isPending}>{t('launch.quote')}</Button>
          <Button type="primary" htmlType="submit" loading={launch.isPending}>{t('launch.submit')}</Button>
        </Space>
      </Form>
      {quote.isError ? <Alert type="error" showIcon title={quote.error.message} /> : null}
      {quote.data ? <QuoteTable explanation={quote.data.now} lang={lang} /> : null}
    </Space>
  );
}

/** One parameter as a form field: its type's input, default, range or choices, and help — all from the schema. */
function ParameterField({ name, spec, required, error }: { readonly name: string; readonly spec: ParameterSpec; readonly required: boolean; readonly error: string | undefined }) {
  const { t } = useI18n();
  const label = spec.title ?? name;
  const help = [spec.description, t('launch.accepts', { what: describeSpec(spec) })].filter(Boolean).join(' · ');
  let input;
  if (spec.type === 'boolean') input = <Switch aria-label={label} />;
  else if (spec.enum !== undefined) input = <Select aria-label={label} options={spec.enum.map((v: string | number) => ({ value: String(v), label: String(v) }))} style={{ maxWidth: 320 }} />;
  else input = <Input aria-label={label} inputMode={spec.type === 'string' ? 'text' : 'decimal'} style={{ maxWidth: spec.type === 'string' ? 640 : 240 }} />;
  return (
    <Form.Item
      label={<span>{label} <Typography.Text type="secondary" code>{name}</Typography.Text>{required ? <Tag color="red" style={{ marginInlineStart: 8 }}>{t('launch.required')}</Tag> : null}</span>}
      name={['params', name]}
      valuePropName={spec.type === 'boolean' ? 'checked' : 'value'}
      validateStatus={error ? 'error' : undefined}
      help={error}
      extra={help}
    >
      {input}
    </Form.Item>
  );
}

/** The quote: the chosen placement and the alternatives (run time, cost, carbon), and why not elsewhere. */
export function QuoteTable({ explanation, lang }: { readonly explanation: ExplanationResource; readonly lang: 'zh' | 'en' }) {
  const { t } = useI18n();
  const rows = [...(explanation.chosen ? [{ ...explanation.chosen, chosen: true }] : []), ...explanation.alternatives.map((a) => ({ ...a, chosen: false }))];
  return (
    <Card size="small" title={t('quote.title')}>
      <Typography.Paragraph>{explanation.summary}</Typography.Paragraph>
      <Table
        size="small"
        pagination={false}
        scroll={{ x: true }}
        rowKey={(r) => `${r.centerName}/${r.poolName}`}
        dataSource={rows}
        columns={[
          { title: t('quote.center'), render: (_, r) => <span>{r.centerName}{r.chosen ? <Tag color="green" style={{ marginInlineStart: 6 }}>{t('quote.chosen')}</Tag> : null}</span> },
          { title: t('quote.chip'), render: (_, r) => r.accelerator ?? t('quote.cpu') },
          { title: t('quote.runtime'), render: (_, r) => duration(r.runSeconds, lang) },
          { title: t('quote.cost'), render: (_, r) => yuan(r.costFen) },
          { title: t('quote.carbon'), render: (_, r) => `${r.carbonKg.toFixed(3)} kg` },
        ]}
      />
      {explanation.infeasible.length > 0 ? (
        <>
          <Typography.Title level={2} style={{ fontSize: 16, marginTop: 16 }}>{t('quote.whyNot')}</Typography.Title>
          <Table
            size="small"
            pagination={false}
            rowKey={(r) => `${r.centerName}/${r.poolName ?? ''}/${r.reason}`}
            dataSource={explanation.infeasible}
            columns={[
              { title: t('quote.center'), render: (_, r) => `${r.centerName}${r.poolName ? ` / ${r.poolName}` : ''}` },
              { title: t('quote.reason'), render: (_, r) => <Tag>{r.reason}</Tag> },
              { title: t('quote.detail'), dataIndex: 'detail' },
            ]}
          />
        </>
      ) : null}
    </Card>
  );
}
