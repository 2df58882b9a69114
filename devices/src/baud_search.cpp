#include "attune/devices/baud_search.hpp"

#include <algorithm>

namespace attune::devices {

BaudSearch::BaudSearch(BaudSearchParams params) : m_p(std::move(params)) {
    m_p.dwell_s = std::max(m_p.dwell_s, 0.05);
    m_dwell_s = m_p.dwell_s;
}

void BaudSearch::Begin(int baud, double t_s) {
    (void)t_s;
    m_garbage_since = -1.0;
    const auto it = std::find(m_p.rates.begin(), m_p.rates.end(), baud);
    if (it != m_p.rates.end()) {
        m_index = static_cast<int>(it - m_p.rates.begin());
    } else if (!m_p.rates.empty()) {
        // A rate outside the list (the user's): try it first, then the list from its start.
        m_p.rates.insert(m_p.rates.begin(), baud);
        m_index = 0;
    }
}

void BaudSearch::Drop(int baud) {
    const auto it = std::find(m_p.rates.begin(), m_p.rates.end(), baud);
    if (it == m_p.rates.end()) return;
    const int pos = static_cast<int>(it - m_p.rates.begin());
    m_p.rates.erase(it);
    if (pos <= m_index && m_index > 0) --m_index;
    if (m_p.rates.empty()) m_done = true;
}

int BaudSearch::Update(bool understood, bool garbage, double t_s) {
    if (m_done || m_p.rates.empty()) return 0;
    if (understood) {
        m_done = true;
        return 0;
    }
    if (!garbage) {
        m_garbage_since = -1.0;
        return 0;
    }
    if (m_garbage_since < 0.0) m_garbage_since = t_s;
    if (t_s - m_garbage_since < m_dwell_s || m_p.rates.size() < 2) return 0;
    m_index = (m_index + 1) % static_cast<int>(m_p.rates.size());
    ++m_tries;
    if (m_tries % static_cast<int>(m_p.rates.size()) == 0) {
        ++m_cycles;
        m_dwell_s = std::min(m_dwell_s * 2.0, m_p.dwell_s * 4.0);
    }
    m_garbage_since = -1.0;
    return m_p.rates[static_cast<std::size_t>(m_index)];
}

}  // namespace attune::devices
