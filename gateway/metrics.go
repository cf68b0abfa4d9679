package gateway

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/warden-safety/warden/policy"
)

type metrics struct {
	requests   *prometheus.CounterVec   // route, code, decision
	decisions  *prometheus.CounterVec   // stage, action, category
	scan       *prometheus.HistogramVec // stage
	upstream   *prometheus.HistogramVec // upstream, route
	holdBack   prometheus.Histogram
	streams    prometheus.Gauge
	recordErrs prometheus.Counter

	scanIn, scanOut, scanStream prometheus.Observer
}

func (m *metrics) scanObserver(stage policy.Stage) prometheus.Observer {
	if stage == policy.Input {
		return m.scanIn
	}
	return m.scanOut
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "warden_gateway_requests_total", Help: "Proxied requests by route, HTTP status and final decision.",
		}, []string{"route", "code", "decision"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "warden_gateway_decisions_total", Help: "Policy decisions by stage, action and category (\"none\" when no category).",
		}, []string{"stage", "action", "category"}),
		scan: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "warden_gateway_scan_seconds", Help: "Time to scan one stage of a request (input, output, stream window).",
			Buckets: []float64{5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 5e-2, 0.1, 0.5, 1},
		}, []string{"stage"}),
		upstream: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "warden_gateway_upstream_seconds", Help: "Upstream latency until response headers.",
			Buckets: prometheus.ExponentialBuckets(1e-4, 2.5, 16),
		}, []string{"upstream", "route"}),
		holdBack: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "warden_gateway_stream_holdback_seconds", Help: "How long a streamed event carrying text was held back before release.",
			Buckets: prometheus.ExponentialBuckets(1e-5, 3, 14),
		}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "warden_gateway_streams_in_flight", Help: "Streams being proxied now.",
		}),
		recordErrs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "warden_gateway_record_errors_total", Help: "Audit records that could not be written.",
		}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.decisions, m.scan, m.upstream, m.holdBack, m.streams, m.recordErrs} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	m.scanIn = m.scan.WithLabelValues(string(policy.Input))
	m.scanOut = m.scan.WithLabelValues(string(policy.Output))
	m.scanStream = m.scan.WithLabelValues("stream")
	return m, nil
}
