// The user's own usage this month, refreshed after each answer.
export async function refreshUsage(element) {
  try {
    const response = await fetch(element.dataset.url, { credentials: "same-origin" });
    if (!response.ok) return;
    const u = await response.json();
    const number = (n) => Number(n).toLocaleString();
    let text = `${number(u.tokens)} tokens`;
    if (u.token_limit !== null) text += `, ${number(u.tokens_left)} of ${number(u.token_limit)} left`;
    if (u.cost_limit !== null) text += `; budget ${Number(u.cost_left).toFixed(2)} of ${Number(u.cost_limit).toFixed(2)} left`;
    if (u.token_limit !== null || u.cost_limit !== null) {
      const resets = new Date(u.resets_at).toLocaleDateString(undefined, { day: "numeric", month: "short" });
      text += ` (resets ${resets})`;
    }
    element.textContent = `${text}.`;
  } catch {
    // The figure on the page stays as it was; the next answer tries again.
  }
}
